"""Class-activation maps of teacher and student, side by side.

    python tools/visualizations/vis_cam.py CONFIG [--teacher-ckpt P]
        [--student-ckpt P] [--num-images 4] [--out FILE.png]
        [--cfg-options k=v ...]

For each of the first ``--num-images`` test images (the config's val
dataset, or the bundled ``CIFAR10Mini`` test split) one row shows the image,
the teacher's CAM and the student's CAM overlaid on it. A CAM (Zhou et al.,
"Learning Deep Features for Discriminative Localization", CVPR 2016) is

.. math::
    M = \\mathrm{ReLU}\\big(\\sum_c w_{\\hat y, c} A_c\\big)

with ``A`` the last conv map before global pooling and ``w`` the linear
head's weight row of the predicted class ``\\hat y``, upsampled to the image
and scaled to [0, 1]. DisWOT's semantic metric compares exactly these
class-wise channel weightings of teacher and student.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import matplotlib  # noqa: E402

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from mmkd.search.proxies.base import classifier_fc, forward_parts  # noqa
from vis_similarity import build_distiller, load_batch  # noqa: E402

#: Inches per grid cell and dpi: a row of 3 cells is 600 pixels wide and
#: each image adds 200 pixels of height.
CELL = 2
DPI = 100


def parse_args(args=None):
    parser = argparse.ArgumentParser(
        description='Teacher/student class-activation maps')
    parser.add_argument('config', help='distiller config file path')
    parser.add_argument('--teacher-ckpt', help='teacher weights (overrides '
                        'model.teacher_ckpt)')
    parser.add_argument('--student-ckpt', help='student weights, or a '
                        'distiller checkpoint (its student is taken)')
    parser.add_argument('--num-images', type=int, default=4,
                        help='how many images (grid rows)')
    parser.add_argument('--out', default='work_dirs/vis_cam/cam.png',
                        help='the PNG file to write')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries: key=value ...')
    return parser.parse_args(args)


@torch.no_grad()
def cams(classifier, inputs, size):
    """``(cams [N, H, W] in [0, 1], predicted classes [N])``."""
    fc = classifier_fc(classifier, 'model')
    feat, logits = forward_parts(classifier, inputs)
    pred = logits.argmax(1)
    weights = fc.weight[pred]  # [N, C]
    cam = F.relu(torch.einsum('nc,nchw->nhw', weights, feat))
    cam = F.interpolate(cam[:, None], size=size, mode='bilinear',
                        align_corners=False)[:, 0]
    flat = cam.flatten(1)
    lo = flat.min(1)[0][:, None, None]
    hi = flat.max(1)[0][:, None, None]
    return (cam - lo) / (hi - lo).clamp_min(1e-12), pred


def to_display(img, bgr):
    """uint8 ``[3, H, W]`` tensor -> float RGB ``[H, W, 3]`` in [0, 1]."""
    img = img.float() / 255
    if bgr:
        img = img.flip(0)
    return img.permute(1, 2, 0).numpy()


def main():
    args = parse_args()
    cfg, model = build_distiller(args)
    inputs, labels, raw, classes = load_batch(cfg, model, args.num_images)
    size = tuple(raw[0].shape[-2:])
    cam_t, pred_t = cams(model.teacher, inputs, size)
    cam_s, pred_s = cams(model.student, inputs, size)
    bgr = bool(getattr(model.data_preprocessor, '_channel_conversion',
                       False))

    def name(i):
        i = int(i)
        return classes[i] if i < len(classes) else str(i)

    n = args.num_images
    fig, axes = plt.subplots(n, 3, figsize=(3 * CELL, n * CELL), dpi=DPI,
                             squeeze=False)
    for row in range(n):
        img = to_display(raw[row], bgr)
        panels = [(None, f'label: {name(labels[row])}'),
                  (cam_t[row], f'teacher: {name(pred_t[row])}'),
                  (cam_s[row], f'student: {name(pred_s[row])}')]
        for ax, (cam, title) in zip(axes[row], panels):
            ax.imshow(img)
            if cam is not None:
                ax.imshow(cam.numpy(), cmap='jet', alpha=0.5,
                          extent=(-0.5, size[1] - 0.5, size[0] - 0.5, -0.5))
            ax.set_title(title, fontsize=8)
            ax.axis('off')
    fig.tight_layout()
    out_dir = osp.dirname(args.out)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    fig.savefig(args.out, dpi=DPI)  # no bbox_inches: keep the size fixed
    plt.close(fig)
    print(f'teacher predictions: {[int(p) for p in pred_t]}')
    print(f'student predictions: {[int(p) for p in pred_s]}')
    print(f'saved {args.out}')


if __name__ == '__main__':
    main()
