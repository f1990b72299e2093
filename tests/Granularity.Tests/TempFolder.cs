namespace Granularity.Tests;

/// <summary>
/// A fresh folder under this test process's own temporary root, deleted on <see cref="Dispose"/>; the root itself, with
/// anything a test left there, is deleted when the last test has finished (<see cref="CleaningTestFramework"/>; on
/// process exit as well), so a test run leaves nothing in the system's temporary folder.
/// </summary>
public sealed class TempFolder : IDisposable
{
    public static string RunRoot { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"granularity-tests-{Environment.ProcessId}");

    static TempFolder() => AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteRunRoot();

    /// <summary>Deletes the root with everything under it; <see cref="CleaningTestFramework"/> calls it when the run ends.</summary>
    public static void DeleteRunRoot() => Delete(RunRoot);

    public TempFolder(string name = "test")
    {
        Path = System.IO.Path.Combine(RunRoot, $"{name}-{Guid.NewGuid():N}"[..(name.Length + 13)]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>A folder that lives until the test process exits (for fixtures shared by many tests).</summary>
    public static string Create(string name) => new TempFolder(name).Path;

    public void Dispose() => Delete(Path);

    private static void Delete(string path)
    {
        try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
