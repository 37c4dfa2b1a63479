// Builds the precompiled Catch2 header that the test executables reuse.
