# KD resnet56 -> resnet20 on CIFAR-100 (RepDistiller's recipe, as
# ../kd/kd_resnet56_resnet20_1xb64_cifar100.py) trained from a teacher
# store: 240 views per image, one per epoch. Build it first:
#   python tools/build_teacher_store.py \
#       configs/teacher_store/kd-store_resnet56_resnet20_1xb64_cifar100.py
# (all 100 logits in fp16: 2.4 GB; --topk 10 keeps 0.5 GB).
_base_ = ['../kd/kd_resnet56_resnet20_1xb64_cifar100.py']
teacher_store = 'work_dirs/teacher_store/resnet56_cifar100_240views'
model = dict(type='StoreTeacherDistiller', teacher_store=teacher_store)
train_dataloader = dict(
    dataset=dict(_delete_=True, type='TeacherStoreDataset',
                 store=teacher_store,
                 dataset={{_base_.train_dataloader.dataset}}),
    sampler=dict(type='TeacherStoreSampler'))
