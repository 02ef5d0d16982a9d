"""Reproducible synthetic Norwegian patients and cohorts. Knows none of its consumers."""
from synthetic_data.cohort import CohortSpec, Manifest, iter_patients, transaction_bundle, write_cohort
from synthetic_data.generator import GENERATOR_VERSION, SyntheticPatient, generate_patient

__all__ = ["CohortSpec", "Manifest", "GENERATOR_VERSION", "SyntheticPatient", "generate_patient",
           "iter_patients", "transaction_bundle", "write_cohort"]
