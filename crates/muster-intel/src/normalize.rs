//! Alert normalisation.
