from .cosine_kd import CosineLogitLoss

__all__ = ['CosineLogitLoss']
