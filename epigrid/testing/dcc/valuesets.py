"""Codes of the EU DCC value sets that this system acts on, and the signer key-usage OIDs.

Only the codes we translate into our own vocabulary are listed; the certificate keeps every
other code as it came.
"""

KIND_TEST = "test"
KIND_VACCINATION = "vaccination"
KIND_RECOVERY = "recovery"
# the hcert member that carries each kind
KIND_BY_MEMBER = {"t": KIND_TEST, "v": KIND_VACCINATION, "r": KIND_RECOVERY}

# Extended key usage on a document signer certificate limits what it may sign. Early signer
# certificates used an OID with an extra `.0` arc; both spellings are in circulation.
KEY_USAGE_OIDS = {
    "1.3.6.1.4.1.1847.2021.1.1": KIND_TEST,
    "1.3.6.1.4.1.1847.2021.1.2": KIND_VACCINATION,
    "1.3.6.1.4.1.1847.2021.1.3": KIND_RECOVERY,
    "1.3.6.1.4.1.0.1847.2021.1.1": KIND_TEST,
    "1.3.6.1.4.1.0.1847.2021.1.2": KIND_VACCINATION,
    "1.3.6.1.4.1.0.1847.2021.1.3": KIND_RECOVERY,
}

TEST_TYPE_NAAT = "LP6464-4"  # LOINC: nucleic acid amplification with probe detection
TEST_TYPE_RAPID_ANTIGEN = "LP217198-3"  # LOINC: rapid immunoassay
TEST_TYPES = {TEST_TYPE_NAAT: "nucleic_acid", TEST_TYPE_RAPID_ANTIGEN: "rapid_antigen"}

TEST_RESULT_NOT_DETECTED = "260415000"  # SNOMED CT
TEST_RESULT_DETECTED = "260373001"  # SNOMED CT
TEST_RESULTS = {TEST_RESULT_NOT_DETECTED: "negative", TEST_RESULT_DETECTED: "positive"}

# COSE algorithm identifiers allowed for DCC signatures
COSE_ES256 = -7
COSE_PS256 = -37
