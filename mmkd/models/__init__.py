from .algorithms import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .connectors import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .wrappers import *  # noqa: F401,F403
