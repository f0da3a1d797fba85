"""CAKD: a Transformer teacher, a CNN student, and an adversarial critic.

Liu et al., "Cross-Architecture Knowledge Distillation", ACCV 2022.
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.optim import OptimWrapperDict

from mmkd.registry import MODELS
from ..interfaces import LossWeightScheduled, OwnTrainStep
from .base import BaseDistiller
from .classifier import build_classifier
from .teachers import Teacher
from .vit_taps import build_attention_tap

#: The teacher tensors CAKDDistiller adds to the usual inputs.
VIT_INPUTS = ('t_q', 't_k', 't_v', 't_attn', 't_tokens', 't_featmap',
              't_cls', 't_dist', 't_windows')


@MODELS.register_module()
class AttentionDiscriminator(nn.Module):
    """A small PatchGAN critic on relation maps ``[B, (h,) N, N]``.

    Strided 4x4 convolutions with LeakyReLU, then a 3x3 convolution to one
    logit per patch (Isola et al., 2017). It tells the teacher's attention
    relations (label 1) from the student's projected ones (label 0).

    Args:
        in_channels (int): Channels of the maps: 1 for head-averaged
            ``[B, N, N]`` maps (released-code mode), the head count for
            per-head maps (paper mode). Defaults to 1.
        base_channels (int): Width of the first layer. Defaults to 32.
        num_layers (int): Strided layers (each halves ``N``). Defaults to 2.

    Examples:
        >>> d = AttentionDiscriminator()
        >>> d(torch.randn(2, 64, 64)).shape
        torch.Size([2, 1, 16, 16])
    """

    def __init__(self,
                 in_channels: int = 1,
                 base_channels: int = 32,
                 num_layers: int = 2) -> None:
        super().__init__()
        self.in_channels = in_channels
        layers, c = [], in_channels
        for i in range(num_layers):
            out = base_channels * 2**i
            layers += [nn.Conv2d(c, out, 4, stride=2, padding=1),
                       nn.LeakyReLU(0.2, inplace=True)]
            c = out
        layers.append(nn.Conv2d(c, 1, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        if maps.dim() == 3:
            maps = maps.unsqueeze(1)
        if maps.shape[1] != self.in_channels:
            raise ValueError(
                f'AttentionDiscriminator has in_channels={self.in_channels} '
                f'but got maps {tuple(maps.shape)}; set in_channels='
                f'{maps.shape[1]} (1 for head-averaged maps).')
        return self.net(maps)


class ViTTeacher(Teacher):
    """A ViT/DeiT/Swin teacher read by an attention tap (CAKD's side).

    Outputs ``t_logits`` and the tapped block's tensors
    (:data:`VIT_INPUTS`); see :class:`CAKDDistiller`.

    Args:
        model (dict | str | nn.Module): The teacher classifier.
        ckpt (str, optional): Its weights.
        block (int): The block to read (Swin: counted over all stages).
            Defaults to -1.
        **kwargs: ``trainable``, ``keep_eval``.
    """

    def __init__(self, model, ckpt: Optional[str] = None, block: int = -1,
                 **kwargs) -> None:
        super().__init__(model, ckpt, **kwargs)
        self.attn_tap = build_attention_tap(
            getattr(self.teacher, 'backbone', self.teacher), block,
            'model.teacher.backbone')

    def output_names(self) -> List[str]:
        return super().output_names() + list(VIT_INPUTS)

    def forward(self, inputs, data_samples=None):
        with self.attn_tap.recording():
            logits = self.teacher(inputs, mode='tensor')
            t = self.attn_tap.tensors()
        self.attn_tap.clear()
        extra = t['extra_tokens']
        n = 0 if extra is None else extra.shape[1]
        return dict(
            t_logits=logits,
            t_q=t['q'],
            t_k=t['k'],
            t_v=t['v'],
            t_attn=t['attn'],
            t_tokens=t['tokens'],
            t_featmap=t['featmap'],
            t_cls=extra[:, 0] if n > 0 else None,
            t_dist=extra[:, 1] if n > 1 else None,
            t_windows=t['windows'])


@MODELS.register_module()
class CAKDDistiller(LossWeightScheduled, OwnTrainStep, BaseDistiller):
    """Distil a CNN student from an mmpretrain ViT/DeiT/Swin teacher (CAKD).

    A :class:`BaseDistiller` whose teacher side (:class:`ViTTeacher`) is a
    Vision Transformer read by :class:`ViTAttentionTap` (or :class:`SwinAttentionTap` for a
    ``SwinTransformer``; hooks only: mmpretrain and torch stay
    unmodified). Besides ``s_logits``, ``t_logits``, ``gt_labels``, taps and
    connectors, losses can take:

    - ``t_q``, ``t_k``, ``t_v``: the tapped block's Q, K, V
      ``[B, h, H*W, d]``, patch tokens only (Swin: ``[B, nW, h, Nw, d]``
      per window);
    - ``t_attn``: its attention map ``[B, h, N, N]`` over all tokens
      (Swin: ``[B, nW, h, Nw, Nw]``, with the position bias and shift
      mask);
    - ``t_windows``: Swin's ``[nW, Nw]`` window indices into the token
      grid (None for a ViT);
    - ``t_tokens`` ``[B, H*W, C]`` / ``t_featmap`` ``[B, C, H, W]``: its
      output patch tokens (after the final norm for the last block);
    - ``t_cls``, ``t_dist``: the class token and DeiT's distillation token
      ``[B, C]`` (None where the model has none, e.g. Swin).

    A loss may return a dict (``CAKDLoss`` does): its tensors are logged as
    ``<loss name>.<key>``, except ``attn_S``/``attn_T``, the maps the
    discriminator compares.

    Multi-view training: if the data samples carry ``t_img`` (from the
    ``CAKDMultiView`` transform and ``PackInputs(algorithm_keys=['t_img'])``)
    the teacher sees that view, normalised by the same data preprocessor,
    and the student sees ``img``.

    Adversarial training (``discriminator`` given): the discriminator
    learns to tell ``attn_T`` (1) from ``attn_S`` (0) with its own
    optimizer, and the student gets ``loss_adv = adv_weight * w * BCE(
    D(attn_S), 1)``, whose gradient reaches the PCA projector and the
    student through the frozen discriminator. ``detach_adversarial=True``
    reproduces the authors' release, which detached ``attn_S`` so the term
    trains nothing. ``w`` is the ramp factor set by ``LossWeightRampHook``
    through :meth:`set_loss_weight` (1 without the hook). It needs
    ``optim_wrapper`` to be an ``OptimWrapperDict`` with ``student`` and
    ``discriminator`` (``DiscriminatorOptimWrapperConstructor``).
    Multi-process training: mmengine's DDP wrapper would bypass
    :meth:`train_step`, so with a discriminator
    :attr:`default_model_wrapper` is ``'TrainStepDataParallel'``, which
    ``KDRunner`` uses in distributed runs (it calls :meth:`train_step` and
    averages the student's and the discriminator's gradients over the
    processes before each of the two optimizer steps).

    Args:
        teacher_block (int): The teacher block to read (Swin: counted
            over all stages). Defaults to -1.
        discriminator (dict | nn.Module, optional): e.g.
            ``dict(type='AttentionDiscriminator')``. Defaults to None.
        adv_weight (float): Weight of the student's adversarial term.
            Defaults to 0.1.
        detach_adversarial (bool): The release's detached form.
            Defaults to False.
        **kwargs: ``student``, ``teacher``, ``teacher_ckpt`` and the other
            arguments of :class:`SingleTeacherDistiller`.

    Raises:
        TypeError: At build time, if the teacher's backbone is not an
            mmpretrain ViT, DeiT or Swin.
    """

    def __init__(self,
                 student: Union[dict, str, nn.Module],
                 teacher: Union[dict, str, nn.Module],
                 teacher_ckpt: Optional[str] = None,
                 teacher_trainable: bool = False,
                 teacher_eval: bool = True,
                 teacher_block: int = -1,
                 discriminator: Optional[Union[dict, nn.Module]] = None,
                 adv_weight: float = 0.1,
                 detach_adversarial: bool = False,
                 check_input_shape: Optional[Sequence[int]] = (3, 32, 32),
                 **kwargs) -> None:
        student = build_classifier(student, 'model.student')
        super().__init__(
            student=student,
            teacher_side=ViTTeacher(teacher, teacher_ckpt, teacher_block,
                                    trainable=teacher_trainable,
                                    keep_eval=teacher_eval),
            check_input_shape=None,
            **kwargs)
        if isinstance(discriminator, dict):
            discriminator = MODELS.build(discriminator)
        elif discriminator is not None and not isinstance(
                discriminator, nn.Module):
            raise TypeError('model.discriminator must be a config dict or '
                            f'an nn.Module, got {type(discriminator)}.')
        self.discriminator = discriminator
        self.adv_weight = adv_weight
        self.detach_adversarial = detach_adversarial
        self.adv_ramp = 1.0
        # after the discriminator exists, so check_outputs can try it
        if check_input_shape is not None:
            self.dry_run(tuple(check_input_shape))

    @property
    def default_model_wrapper(self) -> Optional[str]:
        """The model wrapper of distributed runs (``KDRunner``): mmkd's
        ``TrainStepDataParallel`` with a discriminator, else None (DDP)."""
        return ('TrainStepDataParallel'
                if self.discriminator is not None else None)

    @staticmethod
    def _maps(extras: Dict[str, dict]):
        """``(attn_S, attn_T)`` from the first loss that returned them."""
        for out in extras.values():
            if 'attn_S' in out:
                return out['attn_S'], out['attn_T']
        return None

    def check_outputs(self, extras: Dict[str, dict]) -> None:
        """Build-time check: some loss gives maps the critic accepts."""
        if self.discriminator is None:
            return
        maps = self._maps(extras)
        if maps is None:
            raise ValueError(
                'model.discriminator is set but no distill loss returns '
                'attention maps (attn_S/attn_T); add a CAKDLoss or '
                'remove the discriminator.')
        self.discriminator_loss(*maps)

    # ------------------------------------------------------------ teacher
    def teacher_inputs(self, inputs, data_samples=None):
        """The teacher's view ``t_img`` of a multi-view batch, else the
        student's batch."""
        if not data_samples or 't_img' not in data_samples[0]:
            return inputs
        views = [s.t_img for s in data_samples]
        return self.data_preprocessor(dict(inputs=views), False)['inputs']

    # ------------------------------------------------------------ losses
    def set_loss_weight(self, weight: float) -> None:
        """The ramp factor ``w`` on the adversarial term."""
        self.adv_ramp = float(weight)

    def distill_step(self, inputs, data_samples=None):
        """The base losses plus ``loss_adv`` when there is a
        discriminator."""
        losses, extras = super().distill_step(inputs, data_samples)
        if self.discriminator is not None:
            maps = self._maps(extras)
            if maps is None:
                raise ValueError(
                    'model.discriminator is set but no distill loss returns '
                    'attention maps (attn_S/attn_T); add a CAKDLoss.')
            losses['loss_adv'] = self.adversarial_loss(maps[0])
        return losses, extras

    def adversarial_loss(self, attn_S: torch.Tensor) -> torch.Tensor:
        """The student's term: make the discriminator say 'teacher'.

        The discriminator's parameters get no gradient here; ``attn_S``
        does unless ``detach_adversarial``.
        """
        if self.detach_adversarial:
            attn_S = attn_S.detach()
        flags = [p.requires_grad for p in self.discriminator.parameters()]
        self.discriminator.requires_grad_(False)
        try:
            logits = self.discriminator(attn_S)
        finally:
            for p, flag in zip(self.discriminator.parameters(), flags):
                p.requires_grad_(flag)
        loss = F.binary_cross_entropy_with_logits(logits,
                                                  torch.ones_like(logits))
        return self.adv_weight * self.adv_ramp * loss

    def discriminator_loss(self, attn_S: torch.Tensor,
                           attn_T: torch.Tensor) -> torch.Tensor:
        """BCE of the discriminator: teacher maps 1, student maps 0."""
        real = self.discriminator(attn_T.detach())
        fake = self.discriminator(attn_S.detach())
        return 0.5 * (
            F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(fake,
                                                 torch.zeros_like(fake)))

    def train_step(self, data, optim_wrapper) -> Dict[str, torch.Tensor]:
        """One student step, then one discriminator step (if any)."""
        if self.discriminator is None:
            return super().train_step(data, optim_wrapper)
        if not isinstance(optim_wrapper, OptimWrapperDict) or set(
                optim_wrapper.keys()) != {'student', 'discriminator'}:
            raise TypeError(
                'CAKDDistiller with a discriminator needs two optimizers: '
                "set optim_wrapper=dict(constructor='Discriminator"
                "OptimWrapperConstructor', student=dict(optimizer=...), "
                'discriminator=dict(optimizer=...)).')
        student_ow = optim_wrapper['student']
        disc_ow = optim_wrapper['discriminator']
        with student_ow.optim_context(self):
            data = self.data_preprocessor(data, True)
            losses, extras = self.distill_step(data['inputs'],
                                               data['data_samples'])
        parsed, log_vars = self.parse_losses(losses)
        student_ow.update_params(parsed)
        with disc_ow.optim_context(self.discriminator):
            loss_d = self.discriminator_loss(*self._maps(extras))
        disc_ow.update_params(loss_d)
        log_vars['disc.loss'] = loss_d.detach()
        return log_vars
