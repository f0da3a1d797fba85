# CRD's method part (Tian et al. 2020): 1.0 CE + 0.8 CRD on the pooled
# features (head.fc:input), no KD term; 16384 negatives from other classes,
# tau 0.07, memory momentum 0.5, embeddings of 128. mmengine forbids two
# bases that both set `model`, so a pair config lists this file after its
# pair model (../models/distill/*.py) and takes the parts out of the bases:
#   model = _base_.pop('crd_model')
#   model.distill_losses.loss_crd.update(s_dim=..., t_dim=...)
#   train_dataloader = dict(dataset=dict(
#       _base_.pop('crd_dataset'), dataset=_base_.train_dataloader.dataset))
# (pop keeps these helper keys out of the built config).
crd_model = dict(
    student_loss_weight=1.0,
    taps=dict(
        s_pool='student.head.fc:input',
        t_pool='teacher.head.fc:input'),
    distill_losses=dict(
        loss_crd=dict(type='CRDLoss', num_data=50000, loss_weight=0.8,
                      inputs=dict(feats_S='s_pool', feats_T='t_pool',
                                  sample_idx='sample_idx',
                                  contrast_idx='contrast_idx'))))
# each training sample carries its index and 16384 negative indices
crd_dataset = dict(_delete_=True, type='CRDDataset', nce_k=16384)
