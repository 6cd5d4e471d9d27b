import os

import pytest

from devstack.template import LocalStack
from devtools.receiver import Receiver

# Powertools names a child logger after the service at import: set it before any test module imports the layer,
# as Lambda does, or the layer's loggers hang under "service_undefined" where no handler is (the local stack sets it
# again, to this value, when it starts).
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", LocalStack.name)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()
