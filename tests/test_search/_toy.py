"""Toy classifiers for the search tests (registered with force=True and
removed by the ``toy_backbone`` fixture)."""
import torch.nn as nn

from mmkd.registry import MODELS


class ToyConvNet(nn.Module):
    """conv(3->c1) - ReLU - conv(c1->c2) - ReLU, no bias, no norm."""

    def __init__(self, c1=4, c2=4):
        super().__init__()
        self.conv1 = nn.Conv2d(3, c1, 3, padding=1, bias=False)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1, bias=False)
        self.relu2 = nn.ReLU()

    def forward(self, x):
        return (self.relu2(self.conv2(self.relu1(self.conv1(x)))), )

    def init_weights(self):
        pass


def toy_classifier(c1=4, c2=4, num_classes=5):
    return dict(
        type='ImageClassifier',
        backbone=dict(type='ToyConvNet', c1=c1, c2=c2),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=c2))


def register():
    MODELS.register_module('ToyConvNet', module=ToyConvNet, force=True)


def unregister():
    MODELS._module_dict.pop('ToyConvNet', None)
