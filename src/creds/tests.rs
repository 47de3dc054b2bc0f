//! Unit tests of `creds::get` with the fake STS.
