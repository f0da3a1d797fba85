# CRD (Tian et al. 2020), RepDistiller's CIFAR-100 recipe: resnet32x4 teaches
# resnet8x4; loss = 1.0 CE + 0.8 CRD (no KD term), 16384 negatives from other
# classes, tau 0.07, memory momentum 0.5, embeddings of 128 from the pooled
# features; 240 epochs, SGD 0.05, lr x0.1 at 150/180/210, batch 64 on one
# GPU. The teacher comes from
# configs/cifar_models/resnet32x4_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet32x4_resnet8x4_cifar100.py',
]
model = dict(
    student_loss_weight=1.0,
    taps=dict(
        s_pool='student.head.fc:input',
        t_pool='teacher.head.fc:input'),
    distill_losses=dict(
        loss_crd=dict(type='CRDLoss', s_dim=256, t_dim=256, num_data=50000,
                      loss_weight=0.8,
                      inputs=dict(feats_S='s_pool', feats_T='t_pool',
                                  sample_idx='sample_idx',
                                  contrast_idx='contrast_idx'))))
# each training sample carries its index and 16384 negative indices
train_dataloader = dict(
    dataset=dict(
        _delete_=True, type='CRDDataset', nce_k=16384,
        dataset=dict(type='CIFAR100', data_root='data/cifar100',
                     split='train', pipeline=_base_.train_pipeline)))
