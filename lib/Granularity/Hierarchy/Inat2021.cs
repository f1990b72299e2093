using System.Text;
using System.Text.Json;

namespace Granularity.Hierarchy;

/// <summary>One iNaturalist 2021 category (species) with its taxonomy, as in the official annotation JSON.</summary>
public sealed record Inat2021Category(
    int Id, string Name, string Kingdom, string Phylum, string Class, string Order, string Family, string Genus,
    string SpecificEpithet, string Supercategory)
{
    /// <summary>The taxon at rank 0 (kingdom) … 6 (species: the category name).</summary>
    public string TaxonAt(int rank) => rank switch
    {
        0 => Kingdom, 1 => Phylum, 2 => Class, 3 => Order, 4 => Family, 5 => Genus, 6 => Name,
        _ => throw new ArgumentOutOfRangeException(nameof(rank), rank, "ranks run 0 (kingdom) .. 6 (species)"),
    };

    /// <summary>The image folder of the category in the released archives, e.g. 00000_Animalia_Annelida_…_terrestris.</summary>
    public string ImageDirName => $"{Id:00000}_{Kingdom}_{Phylum}_{Class}_{Order}_{Family}_{Genus}_{SpecificEpithet}";
}

/// <summary>
/// The iNaturalist 2021 taxonomy: categories from the official COCO-style JSON or the committed CSV, the 8-level tree
/// (Life → kingdom → … → species) and its named levels (the seven ranks and the 11 supercategories).
/// </summary>
public static class Inat2021
{
    /// <summary>The taxonomic ranks in tree order; rank r is depth r+1 of <see cref="Tree"/>.</summary>
    public static readonly IReadOnlyList<string> Ranks = new[] { "kingdom", "phylum", "class", "order", "family", "genus", "species" };

    /// <summary>Images per species in train_mini (500,000 images).</summary>
    public const int TrainMiniImagesPerSpecies = 50;

    /// <summary>Images per species in val (100,000 images).</summary>
    public const int ValImagesPerSpecies = 10;

    /// <summary>The root of the tree.</summary>
    public const string RootName = "Life";

    private static readonly string[] TextFields = { "name", "kingdom", "phylum", "class", "order", "family", "genus", "specific_epithet", "supercategory" };
    private static readonly Lazy<IReadOnlyList<Inat2021Category>> committed = new(() =>
    {
        using var reader = HierarchyArtifacts.Open(HierarchyArtifacts.Inat2021Categories);
        return ParseCategoriesCsv(reader, HierarchyArtifacts.Inat2021Categories);
    });
    private static readonly Lazy<LabelTree> committedTree = new(() => BuildTree(committed.Value, "iNat2021 taxonomy"));

    /// <summary>The committed 10,000 categories (data-manifests/hierarchies/inat2021-categories.csv).</summary>
    public static IReadOnlyList<Inat2021Category> CommittedCategories() => committed.Value;

    /// <summary>The tree of the committed categories (built once per process).</summary>
    public static LabelTree Tree() => committedTree.Value;

    /// <summary>The depth of <paramref name="rank"/> ("kingdom" … "species") in the tree.</summary>
    public static GranularityLevel RankLevel(string rank)
    {
        var k = Ranks.ToList().IndexOf(rank.Trim().ToLowerInvariant());
        return k >= 0 ? GranularityLevel.Depth(k + 1) : throw new ArgumentException($"unknown iNat2021 rank '{rank}'; expected one of {string.Join(", ", Ranks)}");
    }

    /// <summary>The labelling at a rank, named after it (e.g. "family": 1,103 classes).</summary>
    public static LabelMap AtRank(LabelTree tree, string rank) => tree.Cut(RankLevel(rank)).Named(rank.Trim().ToLowerInvariant());

    /// <summary>The 11 supercategories (the likely target labels of the paper), labels in order of first appearance.</summary>
    public static LabelMap Supercategories(IReadOnlyList<Inat2021Category> categories) =>
        LabelMap.FromKeys("supercategory", categories.Select(c => c.Supercategory).ToList());

    /// <summary>Supercategory and the seven ranks, coarse to fine, for <paramref name="tree"/> built from <paramref name="categories"/>.</summary>
    public static IReadOnlyList<LabelMap> NamedLevels(LabelTree tree, IReadOnlyList<Inat2021Category> categories) =>
        new[] { Supercategories(categories) }.Concat(Ranks.Select(r => AtRank(tree, r))).ToList();

    /// <summary>
    /// Builds the tree Life → kingdom → phylum → class → order → family → genus → species. Taxa are distinct by their full
    /// path, so homonyms (e.g. the grass genus Ammophila and the wasp genus Ammophila) stay separate nodes; a name used
    /// by more than one taxon is written "Parent/Name" (as in hiercls' inat21.csv).
    /// </summary>
    public static LabelTree BuildTree(IReadOnlyList<Inat2021Category> categories, string name)
    {
        CheckIds(categories, name);
        // Number of distinct taxa (full paths) carrying each name, across all ranks.
        var pathsOfName = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var category in categories)
        {
            var path = new StringBuilder();
            for (int rank = 0; rank < Ranks.Count; rank++)
            {
                var taxon = category.TaxonAt(rank);
                path.Append('\u0001').Append(taxon);
                if (!pathsOfName.TryGetValue(taxon, out var set)) pathsOfName[taxon] = set = new HashSet<string>(StringComparer.Ordinal);
                set.Add(path.ToString());
            }
        }
        var edges = new List<Edge>();
        var nodeOfPath = new Dictionary<string, string>(StringComparer.Ordinal);
        var pathOfNode = new Dictionary<string, string>(StringComparer.Ordinal);
        var leaves = new List<string>(categories.Count);
        foreach (var category in categories)
        {
            var parentNode = RootName;
            var path = new StringBuilder();
            for (int rank = 0; rank < Ranks.Count; rank++)
            {
                var taxon = category.TaxonAt(rank);
                path.Append('\u0001').Append(taxon);
                var key = path.ToString();
                if (!nodeOfPath.TryGetValue(key, out var node))
                {
                    var parentName = rank == 0 ? RootName : category.TaxonAt(rank - 1);
                    node = pathsOfName[taxon].Count > 1 ? $"{parentName}/{taxon}" : taxon;
                    if (!pathOfNode.TryAdd(node, key))
                        throw new InvalidDataException($"{name}: category {category.Id} ('{category.Name}'): {Ranks[rank]} '{taxon}' cannot be told apart from another taxon of the same name under the same parent name");
                    nodeOfPath[key] = node;
                    edges.Add(new Edge(parentNode, node, name, 0));
                }
                parentNode = node;
            }
            leaves.Add(parentNode);
        }
        var homonyms = pathsOfName.Where(p => p.Value.Count > 1).Select(p => p.Key).OrderBy(n => n, StringComparer.Ordinal).ToList();
        var notes = new List<string>();
        if (homonyms.Count > 0)
            notes.Add($"{homonyms.Count} taxon names are shared by more than one taxon and stay separate nodes named Parent/Name: {string.Join(", ", homonyms)}");
        return LabelTree.FromEdges(edges, name, leaves, name, notes: notes);
    }

    /// <summary>Reads the <c>categories</c> of an official annotation file (train.json, train_mini.json, val.json), streaming past the images.</summary>
    public static IReadOnlyList<Inat2021Category> ReadCategoriesJson(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: annotation file not found", path);
        using var stream = File.OpenRead(path);
        return ReadCategoriesJson(stream, path);
    }

    /// <summary>Reads the <c>categories</c> array of a COCO-style annotation stream token by token (the images array is never held in memory).</summary>
    public static IReadOnlyList<Inat2021Category> ReadCategoriesJson(Stream stream, string source)
    {
        var records = new List<Inat2021Category>();
        var buffer = new byte[1 << 16];
        int length = 0;
        bool final = false;
        var state = new JsonReaderState();
        long consumedBefore = 0;
        string? topProperty = null, field = null;
        bool found = false;
        Dictionary<string, (JsonTokenType Type, string? Text, long Offset)>? record = null;
        long recordOffset = 0;
        int nestedDepth = 0;
        while (true)
        {
            if (!final)
            {
                int read = stream.Read(buffer, length, buffer.Length - length);
                if (read == 0) final = true;
                length += read;
            }
            var reader = new Utf8JsonReader(buffer.AsSpan(0, length), final, state);
            try
            {
                while (reader.Read())
                {
                    long offset = consumedBefore + reader.TokenStartIndex;
                    int depth = reader.CurrentDepth;
                    if (depth == 0 && reader.TokenType != JsonTokenType.StartObject && reader.TokenType != JsonTokenType.EndObject)
                        throw new InvalidDataException($"{source}: the file must be a JSON object with a 'categories' array (COCO style)");
                    if (depth == 1 && reader.TokenType == JsonTokenType.PropertyName) { topProperty = reader.GetString(); continue; }
                    if (topProperty != "categories") continue;
                    if (depth == 1)
                    {
                        if (reader.TokenType == JsonTokenType.StartArray) found = true;
                        else if (reader.TokenType != JsonTokenType.EndArray)
                            throw new InvalidDataException($"{source}: byte {offset}: 'categories' must be an array, found {reader.TokenType}");
                        continue;
                    }
                    if (depth == 2)
                    {
                        if (reader.TokenType == JsonTokenType.StartObject) { record = new(StringComparer.Ordinal); recordOffset = offset; }
                        else if (reader.TokenType == JsonTokenType.EndObject) { records.Add(ToCategory(record!, source, records.Count, recordOffset)); record = null; }
                        else throw new InvalidDataException($"{source}: byte {offset}: categories[{records.Count}] must be an object, found {reader.TokenType}");
                        continue;
                    }
                    if (nestedDepth > 0)
                    {
                        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) nestedDepth++;
                        else if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray) nestedDepth--;
                        continue;
                    }
                    if (depth == 3 && reader.TokenType == JsonTokenType.PropertyName) { field = reader.GetString(); continue; }
                    if (depth == 3)
                    {
                        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) nestedDepth = 1;
                        var text = reader.TokenType switch
                        {
                            JsonTokenType.String => reader.GetString(),
                            JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
                            _ => null,
                        };
                        record![field!] = (reader.TokenType, text, offset);
                    }
                }
            }
            catch (Exception error) when (error is JsonException or InvalidOperationException) // InvalidOperation: invalid UTF-8 in a string
            {
                throw new InvalidDataException($"{source}: not valid JSON near byte {consumedBefore + reader.BytesConsumed}: {error.Message}", error);
            }
            if (final) break;
            int consumed = (int)reader.BytesConsumed;
            state = reader.CurrentState;
            consumedBefore += consumed;
            Buffer.BlockCopy(buffer, consumed, buffer, 0, length - consumed);
            length -= consumed;
            if (length == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2); // one token longer than the buffer
        }
        if (!found) throw new InvalidDataException($"{source}: no 'categories' array (expected an iNat2021 annotation file such as train_mini.json or val.json)");
        return SortAndCheck(records, source);
    }

    private static Inat2021Category ToCategory(Dictionary<string, (JsonTokenType Type, string? Text, long Offset)> record, string source, int position, long offset)
    {
        string Where() => $"{source}: categories[{position}]" + (record.TryGetValue("id", out var id) && id.Text is not null ? $" (id {id.Text})" : "") + $" at byte {offset}";
        if (!record.TryGetValue("id", out var idValue)) throw new InvalidDataException($"{Where()}: field 'id' is missing");
        if (idValue.Type != JsonTokenType.Number || !int.TryParse(idValue.Text, out var categoryId) || categoryId < 0)
            throw new InvalidDataException($"{Where()}: field 'id' must be a whole number ≥ 0, found {Describe(idValue.Type, idValue.Text)}");
        var values = new string[TextFields.Length];
        for (int k = 0; k < TextFields.Length; k++)
        {
            if (!record.TryGetValue(TextFields[k], out var value)) throw new InvalidDataException($"{Where()}: taxonomy field '{TextFields[k]}' is missing");
            if (value.Type != JsonTokenType.String || string.IsNullOrWhiteSpace(value.Text))
                throw new InvalidDataException($"{Where()}: field '{TextFields[k]}' must be a non-empty string, found {Describe(value.Type, value.Text)}");
            values[k] = value.Text!.Trim();
        }
        return new Inat2021Category(categoryId, values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7], values[8]);
    }

    private static string Describe(JsonTokenType type, string? text) => type switch
    {
        JsonTokenType.String => $"\"{text}\"",
        JsonTokenType.Number => $"the number {text}",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        _ => type.ToString().ToLowerInvariant(),
    };

    /// <summary>The committed CSV columns, in order.</summary>
    public static readonly IReadOnlyList<string> CsvColumns = new[] { "id", "name", "kingdom", "phylum", "class", "order", "family", "genus", "specific_epithet", "supercategory" };

    /// <summary>Reads a categories CSV with the columns of <see cref="CsvColumns"/> (header first; more columns are ignored).</summary>
    public static IReadOnlyList<Inat2021Category> ReadCategoriesCsv(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: categories file not found", path);
        using var reader = new StreamReader(path);
        return ParseCategoriesCsv(reader, path);
    }

    public static IReadOnlyList<Inat2021Category> ParseCategoriesCsv(TextReader reader, string source)
    {
        var header = reader.ReadLine() ?? throw new InvalidDataException($"{source}: empty file; expected a header line {string.Join(",", CsvColumns)}");
        var columns = Csv.SplitLine(header, source, 1);
        var position = CsvColumns.Select(c => Array.IndexOf(columns, c)).ToArray();
        // The shared reference file names the derived supercategory column differently.
        if (position[9] < 0) position[9] = Array.IndexOf(columns, "supercategory_derived");
        for (int k = 0; k < CsvColumns.Count; k++)
            if (position[k] < 0) throw new InvalidDataException($"{source}:1: column '{CsvColumns[k]}' is missing from the header (expected {string.Join(",", CsvColumns)})");
        var records = new List<Inat2021Category>();
        int lineNumber = 1;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.Trim().Length == 0) continue;
            var fields = Csv.SplitLine(line, source, lineNumber);
            if (fields.Length != columns.Length) throw new InvalidDataException($"{source}:{lineNumber}: expected {columns.Length} fields like the header, got {fields.Length}");
            if (!int.TryParse(fields[position[0]], out var id) || id < 0)
                throw new InvalidDataException($"{source}:{lineNumber}: field 'id' must be a whole number ≥ 0, got '{fields[position[0]]}'");
            var values = new string[10];
            for (int k = 1; k < 10; k++)
            {
                values[k] = fields[position[k]].Trim();
                if (values[k].Length == 0) throw new InvalidDataException($"{source}:{lineNumber} (id {id}): taxonomy field '{CsvColumns[k]}' is empty");
            }
            records.Add(new Inat2021Category(id, values[1], values[2], values[3], values[4], values[5], values[6], values[7], values[8], values[9]));
        }
        return SortAndCheck(records, source);
    }

    /// <summary>Writes categories in the committed CSV format.</summary>
    public static string FormatCategoriesCsv(IEnumerable<Inat2021Category> categories)
    {
        var builder = new StringBuilder().Append(string.Join(",", CsvColumns)).Append('\n');
        foreach (var c in categories)
            builder.AppendJoin(',', new[] { c.Id.ToString(), c.Name, c.Kingdom, c.Phylum, c.Class, c.Order, c.Family, c.Genus, c.SpecificEpithet, c.Supercategory }.Select(Csv.Quote)).Append('\n');
        return builder.ToString();
    }

    private static IReadOnlyList<Inat2021Category> SortAndCheck(List<Inat2021Category> records, string source)
    {
        records.Sort((a, b) => a.Id.CompareTo(b.Id));
        CheckIds(records, source);
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var record in records)
            if (!names.TryAdd(record.Name, record.Id))
                throw new InvalidDataException($"{source}: categories {names[record.Name]} and {record.Id} share the name '{record.Name}'; species would be merged");
        return records;
    }

    private static void CheckIds(IReadOnlyList<Inat2021Category> categories, string source)
    {
        if (categories.Count == 0) throw new InvalidDataException($"{source}: no categories");
        for (int k = 0; k < categories.Count; k++)
        {
            if (categories[k].Id == k) continue;
            if (k > 0 && categories[k].Id == categories[k - 1].Id) throw new InvalidDataException($"{source}: category id {categories[k].Id} appears twice");
            throw new InvalidDataException($"{source}: category ids must be 0..{categories.Count - 1} in order (they index the labels), but id {k} is missing (found {categories[k].Id})");
        }
    }
}

/// <summary>Minimal RFC 4180 field splitting for one line (quoted fields may hold commas; no newlines inside fields).</summary>
internal static class Csv
{
    public static string[] SplitLine(string line, string source, int lineNumber)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else field.Append(ch);
            }
            else if (ch == '"' && field.Length == 0) quoted = true;
            else if (ch == ',') { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(ch);
        }
        if (quoted) throw new InvalidDataException($"{source}:{lineNumber}: unterminated quoted field");
        fields.Add(field.ToString());
        return fields.ToArray();
    }

    public static string Quote(string value) =>
        value.IndexOfAny(new[] { ',', '"', '\n' }) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
}
