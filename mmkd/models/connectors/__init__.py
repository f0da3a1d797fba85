from .aux_heads import DIHHead, MHKDHead, TOFDBranch
from .conv import ConvConnector, LinearConnector
from .ft import Paraphraser, Translator

__all__ = ['ConvConnector', 'LinearConnector', 'Paraphraser', 'Translator']
