from .conv import ConvConnector, LinearConnector

__all__ = ['ConvConnector', 'LinearConnector']
