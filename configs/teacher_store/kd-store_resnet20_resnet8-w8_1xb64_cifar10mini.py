# The quickstart's KD stage (ResNet-20 teaches ResNet-8-w8 on the bundled
# CIFAR-10 subset, 0.1 CE + 0.9 KL, T = 4, 15 epochs, seed 0) trained from a
# teacher store: the teacher's logits on each epoch's views are read, not
# computed. Build the store first (15 views, one per epoch):
#   python tools/build_teacher_store.py \
#       configs/teacher_store/kd-store_resnet20_resnet8-w8_1xb64_cifar10mini.py
_base_ = ['../quickstart/kd_resnet20_resnet8-w8_1xb64_cifar10mini.py']
teacher_store = 'work_dirs/teacher_store/resnet20_cifar10mini_15views'
model = dict(type='StoreTeacherDistiller', teacher_store=teacher_store)
train_dataloader = dict(
    dataset=dict(_delete_=True, type='TeacherStoreDataset',
                 store=teacher_store, seed={{_base_.randomness.seed}},
                 dataset={{_base_.train_dataloader.dataset}}),
    sampler=dict(type='TeacherStoreSampler'))
