"""Reproducible synthetic Norwegian patients and cohorts. Knows none of its consumers."""
from synthetic_data.cohort import CohortSpec, Manifest, iter_patients, shared_resources, transaction_bundle, write_cohort
from synthetic_data.generator import (GENERATOR_VERSION, Population, SyntheticPatient, generate_patient,
                                      generate_persona)

__all__ = ["CohortSpec", "Manifest", "GENERATOR_VERSION", "Population", "SyntheticPatient", "generate_patient",
           "generate_persona", "iter_patients", "shared_resources", "transaction_bundle", "write_cohort"]
