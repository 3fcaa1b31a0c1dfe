from .model import *  # noqa: F401,F403
