"""Server role: the target's own FHIR API, checked against the ground truth of the published cohort."""
