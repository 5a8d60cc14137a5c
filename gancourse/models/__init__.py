"""DCGAN-family generators and discriminators, built from dataclass configs."""

from gancourse.models.config import DiscriminatorConfig, GeneratorConfig
from gancourse.models.discriminator import Discriminator
from gancourse.models.generator import Generator
from gancourse.models.layers import init_weights

__all__ = [
    "Discriminator",
    "DiscriminatorConfig",
    "Generator",
    "GeneratorConfig",
    "init_weights",
]
