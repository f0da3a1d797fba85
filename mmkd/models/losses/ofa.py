"""Hao et al., "One-for-All: Bridge the Gap Between Heterogeneous
Architectures in Knowledge Distillation", NeurIPS 2023 (Hao840/OFAKD)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmkd.registry import DISTILL_LOSSES


@DISTILL_LOSSES.register_module()
class OFALoss(nn.Module):
    """OFA-KD's target-enhanced distillation loss.

    With ``p_T = softmax(z_T / T)``, ``p_S = softmax(z_S / T)``, ``y`` the
    one-hot label and exponent ``eps``, averaged over the batch:

    - ``form='code'`` (default, the official ``ofa_loss``):

      .. math::
          L = -\\sum_k \\big((p_{T,k} + y_k)^{\\epsilon} - y_k\\big)
              \\log p_{S,k}

      i.e. the target class weighted ``(1 + p_T)^eps - 1``, every other
      class ``p_T^eps``;
    - ``form='paper'`` (the paper's equation): the target class weighted
      ``(1 + p_T)^eps``, the others ``p_T`` (no exponent).

    ``eps = 1`` in the code form is plain KD's cross-entropy; ``eps > 1``
    enhances the target class. ``z_S`` may be the student's logits or a
    stage branch's (``OFABranch``, ``OFAViTBranch``). The teacher is
    detached; soft labels (``[N, K]``, e.g. label smoothing or mixup) use
    their argmax, as the official code.

    Args:
        eps (float): The exponent. Defaults to 1.0 (official default; its
            ImageNet command uses 1.5).
        temperature (float): ``T``. Defaults to 1.0.
        form (str): ``'code'`` or ``'paper'``. Defaults to ``'code'``.
        loss_weight (float): Weight. Defaults to 1.0.

    Examples:
        >>> loss = OFALoss(eps=1.5)
        >>> loss(torch.randn(2, 5), torch.randn(2, 5),
        ...      torch.tensor([0, 3])).shape
        torch.Size([])
    """

    _forms = ('code', 'paper')

    def __init__(self, eps: float = 1.0, temperature: float = 1.0,
                 form: str = 'code', loss_weight: float = 1.0) -> None:
        super().__init__()
        if form not in self._forms:
            raise ValueError(f"OFALoss: form={form!r}; use 'code' (the "
                             "official ofa_loss) or 'paper'.")
        if eps <= 0:
            raise ValueError(f'OFALoss: eps must be > 0, got {eps}.')
        self.eps = eps
        self.temperature = temperature
        self.form = form
        self.loss_weight = loss_weight

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                gt_labels: torch.Tensor) -> torch.Tensor:
        """Args:
            preds_S (Tensor): Student (or branch) logits ``[N, K]``.
            preds_T (Tensor): Teacher logits ``[N, K]``.
            gt_labels (Tensor): Labels ``[N]`` or soft labels ``[N, K]``.
        """
        if preds_S.shape != preds_T.shape:
            raise ValueError(
                f'OFALoss: student logits {tuple(preds_S.shape)} and '
                f'teacher logits {tuple(preds_T.shape)} differ; give the '
                "branch the teacher's num_classes.")
        if gt_labels.dim() == 2:
            gt_labels = gt_labels.argmax(-1)
        y = F.one_hot(gt_labels.long(), preds_S.shape[1]).to(preds_S.dtype)
        p_t = F.softmax(preds_T.detach() / self.temperature, dim=1)
        log_p_s = F.log_softmax(preds_S / self.temperature, dim=1)
        if self.form == 'code':
            weight = (p_t + y)**self.eps - y
        else:
            weight = y * (1 + p_t)**self.eps + (1 - y) * p_t
        loss = -(weight * log_p_s).sum(dim=1).mean()
        return self.loss_weight * loss
