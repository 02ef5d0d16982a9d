"""A logical copy of the municipal platform: FHIR API, intake, event store, tenants."""
from mock_platform.app import PlatformConfig, create_app
from mock_platform.server import RunningServer, prepare_worker, start_in_thread

__all__ = ["PlatformConfig", "RunningServer", "create_app", "prepare_worker", "start_in_thread"]
