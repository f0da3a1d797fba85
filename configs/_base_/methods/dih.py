# DIH stage 3's method part (Asadian & Salehi-Abari, arXiv 2103.00497): the
# teacher and its fine-tuned heads (mounted where the pair config's `mounts`
# say) teach the student with
#   L = sum_(j=0..k) [0.1 * 5^2 KL(softmax(z_T^j/5) || softmax(z_S/5))
#                    + 0.9 CE(z_S, y)]
# (tau 5, alpha 0.1, CE counted k+1 times as in the paper; ce_mode='once'
# counts it once). The CE is inside CohortKDLoss, so student_loss_weight=0.
# A pair config lists this file in its _base_ and sets the student, the
# teacher, teacher_ckpt and mounts (and head / input_shape where the input
# is not 32 x 32).
model = dict(
    type='DIHDistiller',
    head=dict(type='DIHHead'),
    input_shape=(3, 32, 32),
    student_loss_weight=0.0,
    distill_losses=dict(
        loss_dih=dict(
            type='CohortKDLoss', tau=5, alpha=0.1, ce_mode='per_head',
            inputs=dict(preds_S='s_logits', preds_T='t_cohort_logits',
                        gt_labels='gt_labels'))))
