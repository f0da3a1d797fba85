"""Zhang et al., "Deep Mutual Learning", CVPR 2018: peers teach each other."""
from typing import Dict, List, Optional, Sequence, Union

import torch.nn as nn

from mmkd.registry import MODELS
from .base import BaseDistiller
from .classifier import build_classifier
from .teachers import TeacherSide

__all__ = ['DMLDistiller', 'Peers']


class Peers(TeacherSide):
    """The peers of mutual learning other than the student: trainable, in
    training mode, randomly initialised (no checkpoint); outputs
    ``p_logits_<name>``. ``TeacherEvalHook`` reports each one's accuracy
    after every validation (as ``teacher/peer.<name>/...``)."""

    def __init__(self, peers: Dict[str, nn.Module]) -> None:
        super().__init__(trainable=True, keep_eval=False)
        self.peers = nn.ModuleDict(peers)

    def modules(self) -> Dict[str, nn.Module]:
        return {'peers': self.peers}

    def named_teachers(self) -> Dict[str, nn.Module]:
        return {f'peer.{name}': p for name, p in self.peers.items()}

    def output_names(self) -> List[str]:
        return [f'p_logits_{name}' for name in self.peers]

    def forward(self, inputs, data_samples=None):
        return {f'p_logits_{name}': p(inputs, mode='tensor')
                for name, p in self.peers.items()}


@MODELS.register_module()
class DMLDistiller(BaseDistiller):
    """Deep mutual learning: two or more peers trained together from
    scratch, each on the labels and on the others' predictions.

    For peers ``k = 1..K`` with logits ``z_k``:

    .. math::
        L_k = \\mathrm{CE}(z_k, y) + \\frac{w}{K - 1} \\sum_{l \\ne k}
            \\tau^2 \\, \\mathrm{KL}\\big(\\mathrm{softmax}(z_l/\\tau)
            \\,\\|\\, \\mathrm{softmax}(z_k/\\tau)\\big)

    with ``z_l`` detached in ``L_k`` (each KL trains only peer ``k``), and
    the total is ``sum_k L_k``. Because of the detaching, one optimizer
    step on the sum is exactly every peer's own step on its ``L_k``, so
    DML runs on mmengine's ordinary train step (and DDP) with one
    optimizer over all peers. The paper updates the peers one after the
    other within an iteration (each on the others' *updated*
    predictions); mmkd updates them simultaneously, as most
    reimplementations do.

    The first peer of ``export_peer`` is the distiller's student: its CE
    is ``student.loss``, it is what ``predict`` (validation, the test
    tool) and the exported checkpoint use. The others are a
    :class:`Peers` side (``peers.<name>``); their CE is ``PeerCELoss``
    (``loss_ce_<name>``), the KL terms ``KDLoss`` (``loss_kl_<k>_<l>``:
    peer ``k`` learning from ``l``). ``TeacherEvalHook`` in
    ``custom_hooks`` reports every other peer's accuracy after each
    validation.

    Args:
        peers (dict[str, dict | str | nn.Module]): ``{name: classifier
            config}``, at least two, in any order.
        export_peer (str, optional): The peer that is the student. Defaults
            to the first.
        tau (float): Temperature of the KL terms. Defaults to 1.0 (the
            paper's plain softmax).
        kl_weight (float): ``w``. Defaults to 1.0.
        check_input_shape, data_preprocessor: As :class:`BaseDistiller`.
    """

    def __init__(self,
                 peers: Dict[str, Union[dict, str, nn.Module]],
                 export_peer: Optional[str] = None,
                 tau: float = 1.0,
                 kl_weight: float = 1.0,
                 check_input_shape: Optional[Sequence[int]] = (3, 32, 32),
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None
                 ) -> None:
        if not isinstance(peers, dict) or len(peers) < 2:
            got = list(peers) if isinstance(peers, dict) else peers
            raise ValueError(
                f'model.peers: mutual learning needs at least two peers, got '
                f'{got!r}; add a peer (or train the classifier alone).')
        names = list(peers)
        for name in names:
            if not name.isidentifier():
                raise ValueError(f'model.peers.{name}: peer names use '
                                 'letters, digits and _ only.')
        export_peer = names[0] if export_peer is None else export_peer
        if export_peer not in peers:
            raise ValueError(f'model.export_peer={export_peer!r} is not a '
                             f'peer; choose one of {names}.')
        # build order = config order (random initialisation follows it)
        built = {n: build_classifier(peers[n], f'model.peers.{n}')
                 for n in names}
        student = built.pop(export_peer)
        logits = {n: ('s_logits' if n == export_peer else f'p_logits_{n}')
                  for n in names}
        losses = {}
        share = kl_weight / (len(names) - 1)
        for k in names:
            if k != export_peer:
                losses[f'loss_ce_{k}'] = dict(
                    type='PeerCELoss',
                    inputs=dict(preds=logits[k], gt_labels='gt_labels'))
            for other in names:
                if other != k:
                    losses[f'loss_kl_{k}_{other}'] = dict(
                        type='KDLoss', tau=tau, loss_weight=share,
                        inputs=dict(preds_S=logits[k],
                                    preds_T=logits[other]))
        super().__init__(student=student, teacher_side=Peers(built),
                         student_loss_weight=1.0, distill_losses=losses,
                         check_input_shape=check_input_shape,
                         data_preprocessor=data_preprocessor)
        self.export_peer = export_peer

    def init_weights(self) -> None:
        """Initialise every peer (none has a checkpoint)."""
        super().init_weights()
        for peer in self.teacher_side.peers.values():
            peer.init_weights()
