"""The reference EPJ: a small, real EPJ that passes every role of the suite, and, with one
`Defect` switched on, the defective variants that prove the suite finds each defect.

- `create_app(EpjConfig)`: its FHIR API (`/fhir`, server role) and `POST /test-control/steps`
  (the scenario protocol, docs/scenario-protocol.md);
- `ReferenceEpj`: the same EPJ as a Python adapter target.
"""
from conformance.reference_epj.app import create_app
from conformance.reference_epj.config import Defect, EpjConfig, defect_catalog
from conformance.reference_epj.epj import ReferenceEpj

__all__ = ["Defect", "EpjConfig", "ReferenceEpj", "create_app", "defect_catalog"]
