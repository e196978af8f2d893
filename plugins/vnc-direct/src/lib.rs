//! vnc-direct backend (being written).
