# CC (Peng et al. 2019), RepDistiller's CIFAR-100 recipe: resnet56 teaches
# resnet20; loss = 1.0 CE + 0.02 x correlation congruence (RepDistiller's
# form) of linear 128-d embeddings of the pooled features (both embeddings
# train), no KD term; 240 epochs, SGD 0.05, lr x0.1 at 150/180/210, batch 64
# on one GPU. The teacher comes from
# configs/cifar_models/resnet56_1xb64_cifar100.py.
_base_ = [
    '../_base_/datasets/cifar100_bs64.py',
    '../_base_/schedules/cifar_sgd_240e.py',
    '../_base_/default_runtime.py',
    '../_base_/models/distill/resnet56_resnet20_cifar100.py',
]
model = dict(
    student_loss_weight=1.0,
    taps=dict(
        s_pool='student.head.fc:input',
        t_pool='teacher.head.fc:input'),
    connectors=dict(
        s_embed=dict(type='LinearConnector', input='s_pool', in_channels=64,
                     out_channels=128),
        t_embed=dict(type='LinearConnector', input='t_pool', in_channels=64,
                     out_channels=128)),
    distill_losses=dict(
        loss_cc=dict(type='CCLoss', mode='repdistiller', loss_weight=0.02,
                     inputs=dict(feats_S='s_embed', feats_T='t_embed'))))
