//! The RFB (VNC) client, without GTK (being written).
