using System.Diagnostics;
using System.Text.Json.Nodes;
using Granularity.Core;

namespace Granularity.Notebook;

/// <summary>
/// The .NET Interactive C# kernel registered for Jupyter by the pinned <c>dotnet-interactive jupyter install</c>, in a
/// private <c>JUPYTER_PATH</c> under <c>artifacts/jupyter</c> (the user's own Jupyter set-up is not touched).
/// </summary>
public static class JupyterKernel
{
    private static readonly object Gate = new();

    /// <summary>The kernel name notebooks declare in their metadata.</summary>
    public const string Name = ".net-csharp";

    /// <summary>
    /// The Python with Debian's Jupyter packages: <c>GRANULARITY_PYTHON</c>, else <c>/usr/bin/python3</c> (a pyenv or
    /// virtual-environment python3 earlier on PATH lacks them), else <c>python3</c>.
    /// </summary>
    public static string Python
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("GRANULARITY_PYTHON");
            if (!string.IsNullOrWhiteSpace(configured)) return configured;
            return File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        }
    }

    /// <summary>The private Jupyter data folder (<c>JUPYTER_PATH</c>) the headless runner uses.</summary>
    public static string JupyterPath => Path.Combine(ProjectPaths.RepositoryRoot, "artifacts", "jupyter");

    /// <summary>
    /// Registers the kernel under <see cref="JupyterPath"/> when it is not there yet (its HTTP server bound to localhost
    /// only) and checks that Python's nbclient is installed; returns the folder to use as <c>JUPYTER_PATH</c>.
    /// </summary>
    public static string EnsureInstalled()
    {
        lock (Gate)
        {
            RequirePythonModules("nbclient", "nbformat");
            var spec = Path.Combine(JupyterPath, "kernels", Name, "kernel.json");
            if (!File.Exists(spec))
            {
                Directory.CreateDirectory(Path.Combine(JupyterPath, "kernels"));
                var install = new ProcessStartInfo("dotnet") { WorkingDirectory = ProjectPaths.RepositoryRoot, RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (var word in new[] { "tool", "run", "dotnet-interactive", "--", "jupyter", "install", "--path", Path.Combine(JupyterPath, "kernels") })
                    install.ArgumentList.Add(word);
                install.Environment["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1";
                var (code, output) = RunToEnd(install, TimeSpan.FromMinutes(3));
                if (code != 0 || !File.Exists(spec))
                    throw new InvalidOperationException($"'dotnet tool run dotnet-interactive -- jupyter install' failed (exit {code}), {spec} not written: {output.Trim()} (run 'dotnet tool restore' first)");
            }
            LocalOnly(spec);
            return JupyterPath;
        }
    }

    /// <summary>Adds <c>--http-local-only</c> to the kernel's argv: otherwise its HTTP server listens on every interface.</summary>
    private static void LocalOnly(string spec)
    {
        var root = JsonNode.Parse(File.ReadAllText(spec)) as JsonObject
            ?? throw new InvalidDataException($"{spec}: not a JSON object");
        var argv = root["argv"] as JsonArray ?? throw new InvalidDataException($"{spec}: no 'argv' array");
        if (argv.Any(a => (string?)a == "--http-local-only")) return;
        argv.Add("--http-local-only");
        AtomicFile.WriteAllText(spec, root.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    private static void RequirePythonModules(params string[] modules)
    {
        var check = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        check.ArgumentList.Add("-c");
        check.ArgumentList.Add("import " + string.Join(", ", modules));
        int code;
        string output;
        try { (code, output) = RunToEnd(check, TimeSpan.FromMinutes(1)); }
        catch (System.ComponentModel.Win32Exception) { (code, output) = (-1, $"{Python} not found"); }
        if (code != 0)
            throw new InvalidOperationException($"Jupyter client missing: {Python} cannot import {string.Join(", ", modules)} ({output.Trim()}); " +
                "install Debian's python3-nbclient and python3-nbformat (eng/install-system-packages.sh), or use the dotnet-repl client (--client repl)");
    }

    private static (int Code, string Output) RunToEnd(ProcessStartInfo start, TimeSpan limit)
    {
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"timed out after {limit.TotalSeconds:0} s");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
