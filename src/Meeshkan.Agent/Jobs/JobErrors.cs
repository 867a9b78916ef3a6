namespace Meeshkan.Agent.Jobs;

/// <summary>
/// A request the application layer refuses, with a message for the user that says what to do. Services/
/// ErrorInterceptor turns each kind into its gRPC status; nothing below the services knows about gRPC.
/// </summary>
public abstract class JobException(string message) : Exception(message);

/// <summary>The request itself is wrong (INVALID_ARGUMENT).</summary>
public sealed class InvalidRequestException(string message) : JobException(message);

/// <summary>No such job, scalar or condition (NOT_FOUND).</summary>
public sealed class NotFoundException(string message) : JobException(message);

/// <summary>Not possible in the job's current state (FAILED_PRECONDITION).</summary>
public sealed class NotAllowedException(string message) : JobException(message);

/// <summary>It asks for more than this agent has, such as more GPUs than it hands out (OUT_OF_RANGE).</summary>
public sealed class BeyondMachineException(string message) : JobException(message);

/// <summary>A limit is reached (RESOURCE_EXHAUSTED).</summary>
public sealed class LimitReachedException(string message) : JobException(message);

/// <summary>This agent cannot do it (UNIMPLEMENTED).</summary>
public sealed class NotAvailableException(string message) : JobException(message);
