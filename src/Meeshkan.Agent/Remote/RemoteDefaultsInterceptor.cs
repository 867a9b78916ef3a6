using Grpc.Core;
using Grpc.Core.Interceptors;
using Meeshkan.V1;

namespace Meeshkan.Agent.Remote;

/// <summary>
/// What a remote call means differently from a local one (see <see cref="ApplyRemoteDefaults"/>). Who may call at all
/// is decided before this, by <see cref="RemoteAuthMiddleware"/>: a remote call that reaches an interceptor carried the token
/// (or a job token, for one of its job's reporting calls: <see cref="JobScope.Check"/> makes sure it is about that job).
/// </summary>
public sealed class RemoteDefaultsInterceptor : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (RemoteAuthMiddleware.IsRemote(context.GetHttpContext()))
        {
            JobScope.Check(context, request);
            ApplyRemoteDefaults(request);
        }
        return continuation(request, context);
    }

    /// <summary>
    /// A remote submit carries no environment (the agent's own is used) and, unless --cwd was given, no working
    /// directory: the job then runs in the home folder of the agent's user, not wherever the agent was started.
    /// </summary>
    private static void ApplyRemoteDefaults<TRequest>(TRequest request)
    {
        switch (request)
        {
            case SubmitJobRequest submit:
                Default(submit);
                break;
            case SubmitJobsRequest many:
                foreach (var submit in many.Jobs)
                {
                    Default(submit);
                }
                break;
        }

        static void Default(SubmitJobRequest submit)
        {
            if (string.IsNullOrEmpty(submit.WorkingDirectory))
            {
                submit.WorkingDirectory = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            }
        }
    }
}
