"""The CIFAR model zoo of RepDistiller / CRD as registered backbones.

Each backbone returns a tuple of stage outputs (``out_indices``), names its
stages as attributes (``stem``, ``layer1`` ...) so distillers can tap them
by module path, and exposes ``out_channels`` per stage.
"""
from .cifar_resnet import CIFARResNet
from .cifar_stage_resnet import CIFARStageResNet
from .macro_resnet import MacroResNet
from .mobilenetv2 import CIFARMobileNetV2
from .nb201 import NB201Net
from .shufflenet import CIFARShuffleNetV1, CIFARShuffleNetV2
from .vgg import CIFARVGG
from .wrn import WideResNet

__all__ = [
    'CIFARResNet', 'CIFARStageResNet', 'CIFARMobileNetV2', 'CIFARShuffleNetV1',
    'CIFARShuffleNetV2', 'CIFARVGG', 'MacroResNet', 'NB201Net', 'WideResNet'
]
