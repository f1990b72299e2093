using Granularity.Core;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Granularity.Runs;

namespace Granularity.Notebook;

/// <summary>One failing cell of an executed notebook.</summary>
public sealed record CellFailure(string Notebook, int Cell, string FirstLine, string Error)
{
    public override string ToString() => $"{Notebook}, cell {Cell} ({FirstLine}): {Error}";
}

/// <summary>The outcome of executing one notebook headless.</summary>
public sealed record NotebookExecution(string Notebook, string ExecutedCopy, int ExitCode, TimeSpan Duration, IReadOnlyList<CellFailure> Failures, string Log)
{
    public bool Succeeded => ExitCode == 0 && Failures.Count == 0;
}

/// <summary>The program that executes a notebook headless.</summary>
public enum NotebookClient
{
    /// <summary>Jupyter's own machinery: nbclient (Debian's python3-nbclient) with the .NET Interactive Jupyter kernel.</summary>
    Jupyter,
    /// <summary>The pinned dotnet-repl tool: no Python needed.</summary>
    Repl,
}

/// <summary>Parses the client names the command line accepts.</summary>
public static class NotebookClients
{
    /// <summary>"jupyter" or "repl" (case-insensitive).</summary>
    public static NotebookClient Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "jupyter" => NotebookClient.Jupyter,
        "repl" or "dotnet-repl" => NotebookClient.Repl,
        _ => throw new ArgumentException($"notebook client must be 'jupyter' or 'repl', got '{name}'"),
    };
}

/// <summary>
/// Executes notebooks cell by cell without an editor, in the notebook's own folder, through Jupyter (nbclient and the
/// kernel the pinned <c>dotnet-interactive jupyter install</c> registers) or the pinned dotnet-repl tool, and reads the
/// executed copy back to name each failing cell.
/// </summary>
public static class NotebookRunner
{
    /// <summary>The committed notebooks, in their numbered order.</summary>
    public static IReadOnlyList<string> Notebooks(string? repositoryRoot = null) =>
        Directory.GetFiles(Path.Combine(repositoryRoot ?? ProjectPaths.RepositoryRoot, "notebooks"), "*.ipynb")
            .OrderBy(p => Path.GetFileName(p), StringComparer.Ordinal).ToList();

    /// <summary>
    /// Runs <paramref name="notebook"/> in <paramref name="mode"/> and writes the executed copy into <paramref name="outputFolder"/>;
    /// <paramref name="environment"/> adds variables for the kernel (e.g. GRANULARITY_ARTIFACTS for a private artifacts folder).
    /// </summary>
    public static NotebookExecution Run(string notebook, string outputFolder, RunMode mode = RunMode.Quick, TimeSpan? timeout = null,
        NotebookClient client = NotebookClient.Jupyter, IReadOnlyDictionary<string, string>? environment = null)
    {
        notebook = Path.GetFullPath(notebook);
        if (!File.Exists(notebook)) throw new FileNotFoundException($"{notebook}: notebook not found", notebook);
        Directory.CreateDirectory(outputFolder);
        var name = Path.GetFileName(notebook);
        var executed = Path.Combine(Path.GetFullPath(outputFolder), name);
        if (File.Exists(executed)) File.Delete(executed);

        var start = client == NotebookClient.Jupyter ? JupyterStart(notebook, executed) : ReplStart(notebook, executed);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.Environment["GRANULARITY_MODE"] = mode == RunMode.Full ? "full" : "quick";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        if (environment is not null)
            foreach (var (key, value) in environment) start.Environment[key] = value;
        var tool = client == NotebookClient.Jupyter ? "Jupyter (nbclient)" : "dotnet-repl";

        var log = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var limit = timeout ?? TimeSpan.FromHours(6);
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            AtomicFile.WriteAllText(LogOf(executed), log.ToString());
            return new NotebookExecution(name, executed, -1, clock.Elapsed,
                new[] { new CellFailure(name, 0, "", $"timed out after {limit.TotalMinutes:0.#} min") }, log.ToString());
        }
        process.WaitForExit();
        var failures = File.Exists(executed)
            ? FailuresIn(executed, name)
            : new[] { new CellFailure(name, 0, "", $"no executed copy was written ({tool} exit code {process.ExitCode}): {Tail(log.ToString(), 2000)} (whole log: {LogOf(executed)})") };
        if (process.ExitCode != 0 && failures.Count == 0)
            failures = new[] { new CellFailure(name, 0, "", $"{tool} exit code {process.ExitCode}: {Tail(log.ToString(), 2000)} (whole log: {LogOf(executed)})") };
        if (failures.Count > 0) AtomicFile.WriteAllText(LogOf(executed), log.ToString());
        else if (File.Exists(LogOf(executed))) File.Delete(LogOf(executed));
        return new NotebookExecution(name, executed, process.ExitCode, clock.Elapsed, failures, log.ToString());
    }

    /// <summary>Where a failed execution's client and kernel output is kept: next to the executed copy, as NAME.ipynb.log.</summary>
    public static string LogOf(string executedCopy) => executedCopy + ".log";

    private static ProcessStartInfo ReplStart(string notebook, string executed)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = WorkingFolderFor(notebook) };
        foreach (var word in new[] { "tool", "run", "dotnet-repl", "--", "--run", notebook, "--exit-after-run", "--output-format", "ipynb", "--output-path", executed })
            start.ArgumentList.Add(word);
        return start;
    }

    private static ProcessStartInfo JupyterStart(string notebook, string executed)
    {
        var jupyterPath = JupyterKernel.EnsureInstalled();
        var start = new ProcessStartInfo(JupyterKernel.Python) { WorkingDirectory = WorkingFolderFor(notebook) };
        foreach (var word in new[] { Path.Combine(ProjectPaths.RepositoryRoot, "eng", "execute-notebook.py"), notebook, executed, "--kernel", JupyterKernel.Name, "--cwd", start.WorkingDirectory })
            start.ArgumentList.Add(word);
        start.Environment["JUPYTER_PATH"] = jupyterPath;
        // Keep Jupyter's runtime files (connection files) out of the user's home and away from other runs.
        start.Environment["JUPYTER_RUNTIME_DIR"] = Path.Combine(jupyterPath, "runtime");
        return start;
    }

    /// <summary>
    /// The folder the client and its kernel run in: the notebook's own (so relative paths and NuGet.Config resolve as in
    /// VS Code and Jupyter) when the repository's tool manifest is above it (the kernel is a local tool), else the
    /// repository root.
    /// </summary>
    private static string WorkingFolderFor(string notebook)
    {
        var folder = Path.GetDirectoryName(notebook)!;
        for (var directory = new DirectoryInfo(folder); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "dotnet-tools.json"))) return folder;
        return ProjectPaths.RepositoryRoot;
    }

    /// <summary>Reads an executed .ipynb and lists every code cell whose outputs hold an error (cells counted from 1, markdown included).</summary>
    public static IReadOnlyList<CellFailure> FailuresIn(string executedNotebook, string? displayName = null)
    {
        var root = JsonNode.Parse(File.ReadAllText(executedNotebook)) ?? throw new InvalidDataException($"{executedNotebook}: empty notebook");
        var cells = root["cells"]?.AsArray() ?? throw new InvalidDataException($"{executedNotebook}: no 'cells' array");
        var failures = new List<CellFailure>();
        for (int index = 0; index < cells.Count; index++)
        {
            var cell = cells[index]!;
            if ((string?)cell["cell_type"] != "code") continue;
            var outputs = cell["outputs"]?.AsArray();
            if (outputs is null) continue;
            var errors = outputs.Where(o => (string?)o?["output_type"] == "error").ToList();
            if (errors.Count == 0) continue;
            var message = string.Join(" | ", errors.Select(e => $"{(string?)e!["ename"]}: {(string?)e["evalue"]}"));
            var diagnostics = outputs.Where(o => (string?)o?["output_type"] == "stream" && (string?)o["name"] == "stderr")
                .Select(o => TextOf(o!["text"])).Where(t => t.Length > 0);
            var detail = string.Join(" ", diagnostics);
            failures.Add(new CellFailure(displayName ?? Path.GetFileName(executedNotebook), index + 1, FirstLine(TextOf(cell["source"])),
                detail.Length > 0 ? $"{message} {Tail(detail, 1500)}" : message));
        }
        return failures;
    }

    /// <summary>True when no code cell of the notebook carries outputs or an execution count (committed notebooks are clean).</summary>
    public static bool IsClean(string notebook)
    {
        var root = JsonNode.Parse(File.ReadAllText(notebook))!;
        return root["cells"]!.AsArray().All(cell =>
            (string?)cell!["cell_type"] != "code"
            || ((cell["outputs"]?.AsArray().Count ?? 0) == 0 && cell["execution_count"] is null));
    }

    private static string TextOf(JsonNode? node) => node switch
    {
        null => "",
        JsonArray lines => string.Concat(lines.Select(l => (string?)l ?? "")),
        _ => (string?)node ?? "",
    };

    private static string FirstLine(string source)
    {
        var line = source.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "";
        return line.Length > 80 ? line[..80] + "…" : line;
    }

    private static string Tail(string text, int length) => text.Length <= length ? text.Trim() : "…" + text[^length..].Trim();
}
