"""Generated gRPC/protobuf code for proto/tandem/v1 (regenerate with `make proto`)."""
