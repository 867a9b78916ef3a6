"""Generated gRPC stubs for the meeshkan.v1 contract (protos/meeshkan/v1).

Do not edit the ``*_pb2*.py`` files: regenerate them with ``clients/python/generate_stubs.sh``.
Nothing is imported here, so that ``import meeshkan`` works where protobuf or grpc is missing.
"""
