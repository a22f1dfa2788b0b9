using System.Net.Sockets;

namespace MailAuth.Server.Protocol;

/// <summary>
/// The accept loop of every listener that owns its socket (IMAP, submission, the SASL service, the
/// control socket): takes connections from one bound socket until stopped and hands each to the
/// listener's handler, which owns the accepted socket. A failed accept (out of file descriptors)
/// neither ends the loop nor spins it. At stop the socket is closed, its UNIX socket file removed
/// (<see cref="UnixSocketFile"/>), and the running connections are waited for.
/// </summary>
internal sealed class AcceptLoop
{
    private static readonly TimeSpan RetryAfterFailedAccept = TimeSpan.FromMilliseconds(100);

    private readonly Socket _listener;
    private readonly string? _unixSocketPath;
    private readonly RunningConnections _connections = new();

    /// <param name="listener">Bound and listening (<see cref="ListeningSocket"/>, <see cref="UnixSocketFile.Listen"/>); the loop disposes it.</param>
    /// <param name="unixSocketPath">The socket's file, removed at stop; null for TCP.</param>
    public AcceptLoop(Socket listener, string? unixSocketPath = null)
    {
        _listener = listener;
        _unixSocketPath = unixSocketPath;
    }

    public System.Net.EndPoint LocalEndPoint => _listener.LocalEndPoint!;

    /// <summary>
    /// Accepts until <paramref name="stopping"/> is cancelled, then waits for the running
    /// connections, at most <paramref name="drainTimeout"/> (infinite: until each has ended).
    /// </summary>
    /// <param name="serve">One connection; it owns and disposes the socket.</param>
    /// <param name="acceptFailed">Logs a failed accept, in the listener's own words.</param>
    /// <param name="oneAtATime">Serve each connection before accepting the next (the control socket).</param>
    public async Task RunAsync(
        Func<Socket, CancellationToken, Task> serve,
        Action<SocketError> acceptFailed,
        TimeSpan drainTimeout,
        CancellationToken stopping,
        bool oneAtATime = false)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await _listener.AcceptAsync(stopping);
                }
                catch (SocketException e)
                {
                    acceptFailed(e.SocketErrorCode);
                    await Task.Delay(RetryAfterFailedAccept, stopping);
                    continue;
                }
                if (oneAtATime)
                {
                    await serve(client, stopping);
                }
                else
                {
                    _connections.Track(ServeAsync(serve, client, stopping));
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            // Stopping.
        }
        finally
        {
            _listener.Dispose();
            if (_unixSocketPath is not null)
            {
                UnixSocketFile.Remove(_unixSocketPath);
            }
            await _connections.WaitAsync(drainTimeout);
        }
    }

    /// <summary>On a task of its own, so that a slow first read never holds up the next accept.</summary>
    private static async Task ServeAsync(Func<Socket, CancellationToken, Task> serve, Socket client, CancellationToken stopping)
    {
        await Task.Yield();
        await serve(client, stopping);
    }

    /// <summary>The running connections, so that stopping can wait for them.</summary>
    private sealed class RunningConnections
    {
        private readonly HashSet<Task> _running = [];

        public void Track(Task connection)
        {
            lock (_running)
            {
                _running.Add(connection);
            }
            connection.ContinueWith(
                finished =>
                {
                    lock (_running)
                    {
                        _running.Remove(finished);
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        /// <summary>Never throws: a connection's own failure was its handler's to log.</summary>
        public async Task WaitAsync(TimeSpan timeout)
        {
            Task[] running;
            lock (_running)
            {
                running = [.. _running];
            }
            await Task.WhenAny(Task.WhenAll(running), Task.Delay(timeout));
        }
    }
}
