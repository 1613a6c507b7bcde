"""EU Digital COVID Certificate (DCC) verification: pure logic, no database.

`verify(qr_text, trust_list, at)` checks one QR text and returns a DccResult; when it is valid
and of kind "test", `external_test_result(result)` describes the result for the testing app.
"""

from epigrid.testing.dcc.results import NotARecordableTest, external_test_result
from epigrid.testing.dcc.trust import Signer, TrustList, TrustListError
from epigrid.testing.dcc.verifier import STAGES, DccResult, verify

__all__ = [
    "STAGES",
    "DccResult",
    "NotARecordableTest",
    "Signer",
    "TrustList",
    "TrustListError",
    "external_test_result",
    "verify",
]
