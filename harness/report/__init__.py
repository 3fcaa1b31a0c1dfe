from .page import *  # noqa: F401,F403
from .page import _BADGE_CLASSES, _CSS, _Renderer  # noqa: F401
