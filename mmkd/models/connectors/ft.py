"""Factor-transfer connectors (Kim et al., "Paraphrasing Complex Network:
Network Compression via Factor Transfer", NeurIPS 2018)."""
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log

from mmkd.registry import CONNECTORS
from mmkd.utils.checkpoint import extract_state_dict, load_checkpoint_file


def _conv_block(conv: nn.Module, channels: int, use_bn: bool) -> list:
    """conv -> BN (or Identity, so state-dict keys do not depend on BN) ->
    LeakyReLU(0.1)."""
    norm = nn.BatchNorm2d(channels) if use_bn else nn.Identity()
    return [conv, norm, nn.LeakyReLU(0.1)]


def _check_map(name: str, x: torch.Tensor, channels: int) -> None:
    if x.dim() != 4:
        raise ValueError(
            f'{name} expects a [N, {channels}, H, W] feature map, got '
            f'{tuple(x.shape)}; tap a convolutional stage (e.g. '
            'backbone.layer3), not a pooled vector.')
    if x.shape[1] != channels:
        raise ValueError(
            f'{name} expects {channels} input channels but got '
            f'{tuple(x.shape)}; set in_channels={x.shape[1]}.')


@CONNECTORS.register_module()
class Paraphraser(nn.Module):
    """The FT paraphraser: a convolutional autoencoder on the teacher
    feature whose code is the teacher's *factor*.

    Encoder: three 3x3 convolutions ``C -> C -> rC -> rC`` (stride 1,
    padding 1), each followed by LeakyReLU(0.1) (and BN if ``use_bn``);
    decoder: three 3x3 transposed convolutions ``rC -> rC -> C -> C``, same
    activations, as in RepDistiller's ``Paraphraser`` (``r = rate = 0.5``,
    the paper's ``k``). Spatial size is kept.

    A connector produces one tensor, so what :meth:`forward` returns is
    chosen by ``output``; both settings have the same parameters, so the
    weights trained with one load into the other:

    - ``output='reconstruction'``: ``decode(encode(x))``, for stage 1.
    - ``output='factor'`` (default): ``encode(x)``, for stage 2.

    Two-stage use (RepDistiller: teacher tap ``backbone.layer3``, its
    ``feat[-2]``; stage 1 is 30 epochs of SGD, lr 0.01 for CIFAR ResNets,
    training only the paraphraser; the stage-1 student is discarded):

    Stage 1, pre-train the paraphraser on the teacher feature::

        taps=dict(t_feat='teacher.backbone.layer3'),
        connectors=dict(paraphraser=dict(
            type='Paraphraser', input='t_feat', in_channels=256,
            output='reconstruction')),
        distill_losses=dict(loss_recon=dict(
            type='ParaphraserReconstructionLoss',
            inputs=dict(recon='paraphraser', target='t_feat')))

    Stage 2, train a fresh student with the translator and the frozen
    paraphraser (weights from the stage-1 checkpoint; the connector's key
    prefix, e.g. ``connectors.paraphraser.``, is found automatically)::

        taps=dict(s_feat='student.backbone.layer3',
                  t_feat='teacher.backbone.layer3'),
        connectors=dict(
            factor_t=dict(type='Paraphraser', input='t_feat',
                          in_channels=256, frozen=True,
                          ckpt='work_dirs/ft_stage1/epoch_30.pth'),
            factor_s=dict(type='Translator', input='s_feat',
                          in_channels=256, out_channels=128)),
        distill_losses=dict(loss_ft=dict(
            type='FTLoss', loss_weight=200,
            inputs=dict(feats_S='factor_s', feats_T='factor_t')))

    ``frozen=True`` sets ``requires_grad=False`` on every parameter and
    keeps the module in eval mode (RepDistiller puts the paraphraser in
    ``eval()`` in stage 2 and leaves it out of the optimiser), so the FT
    loss trains the translator and the student only.

    Args:
        in_channels (int): Teacher feature channels ``C``.
        rate (float): Factor channels are ``int(C * rate)``. Defaults to
            0.5 (the paper's ``k``).
        use_bn (bool): BN after every convolution. Defaults to False
            (RepDistiller's paraphraser).
        output (str): ``'factor'`` or ``'reconstruction'``. Defaults to
            ``'factor'``.
        frozen (bool): Freeze the weights and stay in eval mode. Defaults
            to False.
        ckpt (str, optional): Checkpoint to load the weights from, with
            ``weights_only=True``: a bare paraphraser state dict, or any
            checkpoint (e.g. a stage-1 distiller's) that holds exactly one
            set of paraphraser weights under some key prefix.
        ckpt_prefix (str, optional): The key prefix to take from ``ckpt``
            (e.g. ``'connectors.paraphraser.'``) when it holds several.

    Examples:
        >>> para = Paraphraser(64, output='reconstruction')
        >>> para(torch.randn(2, 64, 8, 8)).shape
        torch.Size([2, 64, 8, 8])
        >>> para.encode(torch.randn(2, 64, 8, 8)).shape
        torch.Size([2, 32, 8, 8])
    """

    _outputs = ('factor', 'reconstruction')

    def __init__(self,
                 in_channels: int,
                 rate: float = 0.5,
                 use_bn: bool = False,
                 output: str = 'factor',
                 frozen: bool = False,
                 ckpt: Optional[str] = None,
                 ckpt_prefix: Optional[str] = None) -> None:
        super().__init__()
        if output not in self._outputs:
            raise ValueError(f'Paraphraser: output must be one of '
                             f'{self._outputs}, got {output!r}.')
        factor_channels = int(in_channels * rate)
        if factor_channels < 1:
            raise ValueError(
                f'Paraphraser: int(in_channels * rate) = int({in_channels} * '
                f'{rate}) is 0; use a larger rate.')
        self.in_channels = in_channels
        self.factor_channels = factor_channels
        self.output = output
        self.frozen = frozen
        c, f = in_channels, factor_channels
        self.encoder = nn.Sequential(
            *_conv_block(nn.Conv2d(c, c, 3, 1, 1), c, use_bn),
            *_conv_block(nn.Conv2d(c, f, 3, 1, 1), f, use_bn),
            *_conv_block(nn.Conv2d(f, f, 3, 1, 1), f, use_bn))
        self.decoder = nn.Sequential(
            *_conv_block(nn.ConvTranspose2d(f, f, 3, 1, 1), f, use_bn),
            *_conv_block(nn.ConvTranspose2d(f, c, 3, 1, 1), c, use_bn),
            *_conv_block(nn.ConvTranspose2d(c, c, 3, 1, 1), c, use_bn))
        if ckpt is not None:
            self.load_state_dict(self._read_ckpt(ckpt, ckpt_prefix))
        elif frozen:
            print_log(
                'Paraphraser: frozen=True without ckpt keeps random weights '
                'unless a later checkpoint load fills them; give ckpt= the '
                'stage-1 checkpoint.',
                logger='current', level=30)
        if frozen:
            self.requires_grad_(False)
            self.train(False)

    def _read_ckpt(self, path: str,
                   prefix: Optional[str]) -> Dict[str, torch.Tensor]:
        """The paraphraser's entries of a checkpoint, keys without prefix."""
        state = extract_state_dict(load_checkpoint_file(path))
        own = list(self.state_dict())
        if prefix is not None:
            found = {k[len(prefix):]: v for k, v in state.items()
                     if k.startswith(prefix)}
            if not found:
                raise KeyError(
                    f'Paraphraser: no key of {path!r} starts with '
                    f'ckpt_prefix={prefix!r}; check the connector name of the '
                    'stage-1 config.')
            state = found
        elif not set(own) <= set(state):
            anchor = own[0]
            prefixes = sorted(
                k[:-len(anchor)] for k in state
                if k.endswith('.' + anchor)
                and all(k[:-len(anchor)] + o in state for o in own))
            if len(prefixes) != 1:
                raise KeyError(
                    f'Paraphraser: {path!r} holds '
                    f'{"no" if not prefixes else len(prefixes)} sets of '
                    f'paraphraser weights (looked for keys ending in '
                    f'{anchor!r}; found prefixes {prefixes}); '
                    + ('set ckpt_prefix to one of them.' if prefixes else
                       'give the stage-1 checkpoint of a Paraphraser.'))
            state = {k[len(prefixes[0]):]: v for k, v in state.items()
                     if k.startswith(prefixes[0])}
        own_state = self.state_dict()
        for key in own:
            if key in state and state[key].shape != own_state[key].shape:
                raise RuntimeError(
                    f'Paraphraser: {key} has shape {tuple(state[key].shape)} '
                    f'in {path!r} but {tuple(own_state[key].shape)} here; set '
                    'in_channels, rate and use_bn as in the stage-1 config.')
        missing = [k for k in own if k not in state]
        if missing:
            raise RuntimeError(
                f'Paraphraser: {path!r} lacks {missing[:5]}; set use_bn as in '
                'the stage-1 config.')
        return {k: state[k] for k in own}

    def train(self, mode: bool = True):
        """Stay in eval mode when frozen."""
        return super().train(mode and not self.frozen)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Teacher feature ``[N, C, H, W]`` -> factor ``[N, rC, H, W]``."""
        _check_map('Paraphraser', x, self.in_channels)
        return self.encoder(x)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """``decode(encode(x))``, shape of ``x``."""
        return self.decoder(self.encode(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.output == 'factor':
            return self.encode(x)
        return self.reconstruct(x)


@CONNECTORS.register_module()
class Translator(nn.Module):
    """The FT translator: maps the student feature to the teacher's factor
    space.

    Three 3x3 convolutions ``C_S -> C_S -> C_out -> C_out`` (stride 1,
    padding 1), each followed by BN (if ``use_bn``) and LeakyReLU(0.1), as
    RepDistiller's ``Translator`` (BN on). ``out_channels`` must equal the
    paraphraser's factor channels, ``int(C_T * rate)``. It trains with the
    student in stage 2 (see :class:`Paraphraser`).

    Args:
        in_channels (int): Student feature channels.
        out_channels (int): Factor channels, ``int(C_T * 0.5)`` usually.
        use_bn (bool): BN after every convolution. Defaults to True.

    Examples:
        >>> Translator(32, 64)(torch.randn(2, 32, 8, 8)).shape
        torch.Size([2, 64, 8, 8])
    """

    def __init__(self, in_channels: int, out_channels: int,
                 use_bn: bool = True) -> None:
        super().__init__()
        self.in_channels = in_channels
        c, f = in_channels, out_channels
        self.encoder = nn.Sequential(
            *_conv_block(nn.Conv2d(c, c, 3, 1, 1), c, use_bn),
            *_conv_block(nn.Conv2d(c, f, 3, 1, 1), f, use_bn),
            *_conv_block(nn.Conv2d(f, f, 3, 1, 1), f, use_bn))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_map('Translator', x, self.in_channels)
        return self.encoder(x)
