//! Email forensics.
