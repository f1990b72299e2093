using System.Collections;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;

namespace Granularity.Notebook;

/// <summary>
/// Config and result records as a field/value table for notebook output: public properties by reflection, nested records
/// flattened with dotted names ("Base.Dimension"), lists joined, numbers in invariant culture. The kernel's default
/// formatter would print type names such as <c>&lt;&gt;z__ReadOnlyArray`1[System.Int32]</c> instead.
/// </summary>
public static class RecordTable
{
    /// <summary>Nested records deeper than this are shown compactly on one line.</summary>
    public const int FlattenDepth = 3;

    /// <summary>Lists longer than this show their first items and the count.</summary>
    public const int ListItems = 12;

    /// <summary>The rows of <paramref name="value"/>'s table: (field, value) in declaration order, nested records flattened.</summary>
    public static IReadOnlyList<(string Field, string Value)> Rows(object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var rows = new List<(string, string)>();
        AddRows(rows, "", value, 0);
        return rows;
    }

    /// <summary>The HTML table of <paramref name="value"/> (caption: its type), every text HTML-escaped.</summary>
    public static string Html(object value)
    {
        var text = new StringBuilder();
        text.Append("<table class=\"granularity-record\"><caption style=\"text-align:left\"><b>")
            .Append(WebUtility.HtmlEncode(TypeName(value.GetType()))).Append("</b></caption>")
            .Append("<thead><tr><th style=\"text-align:left\">field</th><th style=\"text-align:left\">value</th></tr></thead><tbody>");
        foreach (var (field, cell) in Rows(value))
            text.Append("<tr><td style=\"text-align:left\"><code>").Append(WebUtility.HtmlEncode(field)).Append("</code></td><td style=\"text-align:left\">")
                .Append(WebUtility.HtmlEncode(cell)).Append("</td></tr>");
        return text.Append("</tbody></table>").ToString();
    }

    /// <summary>
    /// The types a notebook kernel shows through <see cref="Html"/>: every public type of the library whose name ends in
    /// "Config", every implementer of <c>IExperimentConfig&lt;&gt;</c>, and the setup cell's <see cref="NotebookEnvironment"/>.
    /// </summary>
    public static IReadOnlyList<Type> DisplayedTypes() =>
        typeof(RecordTable).Assembly.GetExportedTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false, IsGenericTypeDefinition: false })
            .Where(t => t.Name.EndsWith("Config", StringComparison.Ordinal) || t == typeof(NotebookEnvironment)
                        || t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(Runs.IExperimentConfig<>)))
            .OrderBy(t => t.FullName, StringComparer.Ordinal).ToList();

    private static void AddRows(List<(string, string)> rows, string prefix, object value, int depth)
    {
        foreach (var property in Properties(value.GetType()))
        {
            var name = prefix + property.Name;
            object? field;
            try { field = property.GetValue(value); }
            catch (TargetInvocationException error) { rows.Add((name, $"(unavailable: {error.InnerException?.Message})")); continue; }
            if (field is not null && IsRecordLike(field.GetType()) && depth + 1 < FlattenDepth) AddRows(rows, name + ".", field, depth + 1);
            else rows.Add((name, Cell(field, depth)));
        }
    }

    /// <summary>One value as a cell: lists joined with ", ", records as "{ A = 1, B = 2 }", enums by name, numbers invariant.</summary>
    public static string Cell(object? value, int depth = 0) => value switch
    {
        null => "—",
        string s => s,
        bool b => b ? "true" : "false",
        Enum e => e.ToString(),
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        float f => f.ToString("G6", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable list => List(list, depth),
        var other when IsRecordLike(other.GetType()) && depth < FlattenDepth + 2 =>
            "{ " + string.Join(", ", Properties(other.GetType()).Select(p => $"{p.Name} = {Cell(SafeGet(p, other), depth + 1)}")) + " }",
        var other => other.ToString() ?? "",
    };

    private static string List(IEnumerable list, int depth)
    {
        var items = new List<string>();
        var count = 0;
        foreach (var item in list)
        {
            if (count++ < ListItems) items.Add(item is System.Runtime.CompilerServices.ITuple or DictionaryEntry ? item.ToString() ?? "" : Cell(item, depth + 1));
        }
        if (count == 0) return "(none)";
        return string.Join(", ", items) + (count > ListItems ? $", … ({count} in all)" : "");
    }

    private static object? SafeGet(PropertyInfo property, object owner)
    {
        try { return property.GetValue(owner); }
        catch (TargetInvocationException) { return "?"; }
    }

    /// <summary>A type of ours with readable properties (records and plain classes of the library), not a collection.</summary>
    private static bool IsRecordLike(Type type) =>
        type.Namespace?.StartsWith("Granularity", StringComparison.Ordinal) == true && !type.IsEnum && !typeof(IEnumerable).IsAssignableFrom(type)
        && Properties(type).Any();

    /// <summary>
    /// The fields a record stores (settable or auto-properties, in declaration order); computed properties only where a
    /// type stores none, so a table shows the config as written rather than everything derivable from it.
    /// </summary>
    private static IReadOnlyList<PropertyInfo> Properties(Type type)
    {
        var readable = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract"
                        && p.GetCustomAttribute<System.Text.Json.Serialization.JsonIgnoreAttribute>() is null)   // what config.json holds
            .OrderBy(p => p.MetadataToken).ToList();
        // Stored: settable (init or set, as every positional and `with`-able field is) or an auto-property.
        var stored = readable.Where(p => p.SetMethod is not null
            || p.DeclaringType?.GetField($"<{p.Name}>k__BackingField", BindingFlags.NonPublic | BindingFlags.Instance) is not null).ToList();
        return stored.Count > 0 ? stored : readable;
    }

    private static string TypeName(Type type) => type.Name;
}
