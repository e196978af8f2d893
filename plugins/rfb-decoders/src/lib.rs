//! RFB decoders (being written).
