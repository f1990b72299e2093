using Granularity.Core;
using System.Globalization;
using System.Text;

namespace Granularity.Runs;

/// <summary>A metrics table (one row per step or epoch) with a fixed column list, written and read as CSV in the invariant culture.</summary>
public sealed class MetricsTable
{
    private readonly List<double[]> rows = new();

    public MetricsTable(IEnumerable<string> columns)
    {
        Columns = columns.ToArray();
        if (Columns.Count == 0) throw new ArgumentException("a metrics table needs at least one column");
        var duplicate = Columns.GroupBy(c => c).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"metrics column '{duplicate.Key}' appears twice");
    }

    public IReadOnlyList<string> Columns { get; }
    public IReadOnlyList<double[]> Rows => rows;

    public void Add(params double[] values)
    {
        if (values.Length != Columns.Count)
            throw new ArgumentException($"a metrics row needs {Columns.Count} values ({string.Join(", ", Columns)}), got {values.Length}");
        rows.Add((double[])values.Clone());
    }

    /// <summary>All values of one column, in row order.</summary>
    public double[] Column(string name)
    {
        var index = IndexOf(name);
        return rows.Select(r => r[index]).ToArray();
    }

    public int IndexOf(string name)
    {
        for (int i = 0; i < Columns.Count; i++) if (Columns[i] == name) return i;
        throw new KeyNotFoundException($"no metrics column '{name}' (columns: {string.Join(", ", Columns)})");
    }

    public string ToCsv()
    {
        var text = new StringBuilder();
        text.AppendLine(string.Join(',', Columns));
        foreach (var row in rows) text.AppendLine(string.Join(',', row.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        return text.ToString();
    }

    public void Save(string path) => AtomicFile.WriteAllText(path, ToCsv());

    /// <summary>Reads a metrics CSV; a malformed line is reported with the file and line number.</summary>
    public static MetricsTable Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        using var reader = new StreamReader(path);
        var header = reader.ReadLine() ?? throw new InvalidDataException($"{path}: line 1: expected a header of column names, found an empty file");
        MetricsTable table;
        try { table = new MetricsTable(header.Split(',')); }
        catch (ArgumentException error) { throw new InvalidDataException($"{path}: line 1: {error.Message}", error); }
        int lineNumber = 1;
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var cells = line.Split(',');
            if (cells.Length != table.Columns.Count)
                throw new InvalidDataException($"{path}: line {lineNumber}: expected {table.Columns.Count} values, found {cells.Length}");
            var values = new double[cells.Length];
            for (int i = 0; i < cells.Length; i++)
                if (!double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
                    throw new InvalidDataException($"{path}: line {lineNumber}: column '{table.Columns[i]}' is not a number: '{cells[i]}'");
            table.rows.Add(values);
        }
        return table;
    }
}
