"""DeliveryFunction's settings under their old name, until its handler builds from bluehooks.roots.delivery.

(Temporary: the delivery handler is being changed on another branch; this goes when the two meet.)"""

from functools import cache

from bluehooks.roots.delivery import DeliverySettings as Settings


@cache
def settings() -> Settings:
    return Settings.from_env()
