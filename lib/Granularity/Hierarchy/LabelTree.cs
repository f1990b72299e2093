namespace Granularity.Hierarchy;

/// <summary>
/// A rooted label tree whose leaves are the finest classes. Built from <c>parent child</c> edges and checked: exactly one
/// root (or, for a forest such as NLTK's WordNet, exactly the roots named), one parent per node, no cycles, no duplicate
/// edges, every class present. Nodes are numbered 0..NodeCount-1 and
/// leaves (the finest classes) 0..LeafCount-1 in the class order given (or first appearance in the edge list).
/// </summary>
/// <remarks>
/// A "leaf" here is a finest class. For ImageNet-21k some classes have other classes below them in WordNet (a class can
/// be an inner node); they are still leaves in the sense of labels: an image of such a class carries that label.
/// </remarks>
public sealed class LabelTree
{
    private readonly string[] ids;
    private readonly string[] titles;
    private readonly int[] parent;
    private readonly int[] depth;
    private readonly int[] height;
    private readonly int[] childStart;
    private readonly int[] children;
    private readonly int[] leafNodes;
    private readonly int[] nodeToLeaf;
    private readonly int[] roots;
    private readonly Dictionary<string, int> index;

    private LabelTree(string name, string[] ids, string[] titles, int[] parent, int[] leafNodes, IReadOnlyList<string> notes)
    {
        Name = name;
        this.ids = ids;
        this.titles = titles;
        this.parent = parent;
        this.leafNodes = leafNodes;
        Notes = notes;
        int n = ids.Length;
        index = new Dictionary<string, int>(n, StringComparer.Ordinal);
        for (int i = 0; i < n; i++) index[ids[i]] = i;

        // Children in compressed rows, keeping the order nodes were introduced.
        childStart = new int[n + 1];
        for (int i = 0; i < n; i++) if (parent[i] >= 0) childStart[parent[i] + 1]++;
        for (int i = 0; i < n; i++) childStart[i + 1] += childStart[i];
        roots = Enumerable.Range(0, n).Where(i => parent[i] < 0).ToArray();
        children = new int[n - roots.Length];
        var fill = (int[])childStart.Clone();
        for (int i = 0; i < n; i++) if (parent[i] >= 0) children[fill[parent[i]]++] = i;

        depth = new int[n];
        var order = BreadthFirstOrder();
        foreach (var node in order) depth[node] = parent[node] < 0 ? 0 : depth[parent[node]] + 1;
        height = new int[n];
        for (int k = order.Length - 1; k >= 0; k--)
        {
            var node = order[k];
            if (parent[node] >= 0) height[parent[node]] = Math.Max(height[parent[node]], height[node] + 1);
        }
        nodeToLeaf = new int[n];
        Array.Fill(nodeToLeaf, -1);
        for (int leaf = 0; leaf < leafNodes.Length; leaf++) nodeToLeaf[leafNodes[leaf]] = leaf;
        MaxLeafDepth = leafNodes.Length == 0 ? 0 : leafNodes.Max(l => depth[l]);
        MinLeafDepth = leafNodes.Length == 0 ? 0 : leafNodes.Min(l => depth[l]);
    }

    /// <summary>What this tree is, e.g. "iNat2021 taxonomy" or "ImageNet-21k · WordNet NLTK first hypernym".</summary>
    public string Name { get; }

    /// <summary>Facts worth a reader's attention about how the tree was built (repairs, homonyms kept apart).</summary>
    public IReadOnlyList<string> Notes { get; }

    public int NodeCount => ids.Length;
    public int LeafCount => leafNodes.Length;

    /// <summary>The root; a forest (several roots) has no single one and says so.</summary>
    public int Root => roots.Length == 1 ? roots[0]
        : throw new InvalidOperationException($"{Name} is a forest of {roots.Length} roots ({string.Join(", ", roots.Take(5).Select(r => titles[r]))}): use Roots");

    /// <summary>The nodes without a parent, in the order they were introduced: one for a tree, several for a forest.</summary>
    public IReadOnlyList<int> Roots => roots;

    /// <summary>Depth of the deepest class (the root has depth 0).</summary>
    public int MaxLeafDepth { get; }

    /// <summary>Depth of the shallowest class.</summary>
    public int MinLeafDepth { get; }

    /// <summary>Height of the (tallest) root: the longest path from a root down to a node without children.</summary>
    public int RootHeight => roots.Max(r => height[r]);

    /// <summary>The node's identifier (taxon name, wnid).</summary>
    public string Id(int node) => ids[node];

    /// <summary>A human-readable name (for WordNet: "n02084071 dog"), the id where none was given.</summary>
    public string Title(int node) => titles[node];

    public int Parent(int node) => parent[node];
    public int Depth(int node) => depth[node];
    public int Height(int node) => height[node];
    public ReadOnlySpan<int> Children(int node) => children.AsSpan(childStart[node], childStart[node + 1] - childStart[node]);

    /// <summary>The tree node of finest class <paramref name="leaf"/>.</summary>
    public int LeafNode(int leaf) => leafNodes[leaf];

    /// <summary>The class index of <paramref name="node"/>, or -1 when the node is not a class.</summary>
    public int LeafOf(int node) => nodeToLeaf[node];

    public bool IsLeaf(int node) => nodeToLeaf[node] >= 0;

    /// <summary>The ids of the finest classes, in class order.</summary>
    public IEnumerable<string> LeafIds => leafNodes.Select(n => ids[n]);

    /// <summary>The node with id <paramref name="id"/>; a missing id is an error naming the tree.</summary>
    public int NodeIndex(string id) =>
        index.TryGetValue(id, out var node) ? node
            : throw new ArgumentException($"'{id}' is not a node of {Name} ({NodeCount:N0} nodes, {LeafCount:N0} classes)");

    public bool TryGetNode(string id, out int node) => index.TryGetValue(id, out node);

    /// <summary>The class index of the class with id <paramref name="id"/>; an error when it is not a class.</summary>
    public int LeafIndex(string id)
    {
        var node = NodeIndex(id);
        return nodeToLeaf[node] >= 0 ? nodeToLeaf[node]
            : throw new ArgumentException($"'{id}' is an inner node of {Name}, not one of its {LeafCount:N0} classes");
    }

    /// <summary>The path from the root down to <paramref name="node"/> (root first).</summary>
    public int[] PathFromRoot(int node)
    {
        var path = new int[depth[node] + 1];
        for (int k = path.Length - 1; k >= 0; k--, node = parent[node]) path[k] = node;
        return path;
    }

    /// <summary>Nodes in breadth-first order from the root (the roots, for a forest), children in insertion order.</summary>
    public int[] BreadthFirstOrder()
    {
        var order = new int[NodeCount];
        int head = 0, tail = 0;
        foreach (var root in roots) order[tail++] = root;
        while (head < tail)
        {
            var node = order[head++];
            for (int c = childStart[node]; c < childStart[node + 1]; c++) order[tail++] = children[c];
        }
        return order;
    }

    /// <summary>Number of classes at or below each node.</summary>
    public int[] LeavesBelow()
    {
        var count = new int[NodeCount];
        var order = BreadthFirstOrder();
        for (int k = order.Length - 1; k >= 0; k--)
        {
            var node = order[k];
            if (nodeToLeaf[node] >= 0) count[node]++;
            if (parent[node] >= 0) count[parent[node]] += count[node];
        }
        return count;
    }

    /// <summary>The valid levels of one cut kind, coarsest depth first for Depth, finest first for Height and StepsUp.</summary>
    public IReadOnlyList<GranularityLevel> Levels(CutKind kind) => kind switch
    {
        CutKind.Depth => Enumerable.Range(0, MaxLeafDepth + 1).Select(GranularityLevel.Depth).ToList(),
        CutKind.Height => Enumerable.Range(0, RootHeight + 1).Select(GranularityLevel.Height).ToList(),
        CutKind.StepsUp => Enumerable.Range(0, MaxLeafDepth + 1).Select(GranularityLevel.StepsUp).ToList(),
        CutKind.UpDown => Enumerable.Range(0, MaxLeafDepth + 1).Select(GranularityLevel.UpDown).ToList(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown cut kind"),
    };

    /// <summary>
    /// The label every class gets at <paramref name="level"/>: Depth d — its ancestor at depth d (a class shallower than
    /// d keeps its own label); Height h — its highest ancestor of height ≤ h (a class of greater height keeps its own);
    /// StepsUp n — its ancestor n steps up, stopping at its root; UpDown n — <see cref="CutKind.UpDown"/> n times. In a
    /// forest every root has depth 0, so depth 0 gives one label per root.
    /// </summary>
    public LabelMap Cut(GranularityLevel level)
    {
        CheckLevel(level);
        if (level.Kind == CutKind.UpDown) return LabelMap.FromNodes(this, level.ToString(), UpDownNodes(level.Value));
        var labelNode = new int[LeafCount];
        for (int leaf = 0; leaf < labelNode.Length; leaf++)
        {
            int node = leafNodes[leaf];
            switch (level.Kind)
            {
                case CutKind.Depth:
                    while (depth[node] > level.Value) node = parent[node];
                    break;
                case CutKind.StepsUp:
                    for (int step = 0; step < level.Value && parent[node] >= 0; step++) node = parent[node];
                    break;
                case CutKind.Height:
                    if (height[node] <= level.Value)
                        while (parent[node] >= 0 && height[parent[node]] <= level.Value) node = parent[node];
                    break;
            }
            labelNode[leaf] = node;
        }
        return LabelMap.FromNodes(this, level.ToString(), labelNode);
    }

    /// <summary>
    /// Huh et al.'s up_down: each round lifts every label to its parent (the root stays), then relabels each one with the
    /// highest of the lifted nodes on its path to the root. Their pairwise loop ends in the same labels whatever the order.
    /// </summary>
    private int[] UpDownNodes(int rounds)
    {
        var labels = leafNodes.ToArray();
        var lifted = new bool[NodeCount];
        for (int round = 0; round < rounds; round++)
        {
            Array.Clear(lifted);
            for (int k = 0; k < labels.Length; k++)
            {
                labels[k] = parent[labels[k]] >= 0 ? parent[labels[k]] : labels[k];
                lifted[labels[k]] = true;
            }
            for (int k = 0; k < labels.Length; k++)
                for (int node = parent[labels[k]]; node >= 0; node = parent[node])
                    if (lifted[node]) labels[k] = node;
        }
        return labels;
    }

    /// <summary>
    /// The cut whose class count is nearest <paramref name="classes"/> among every level of <paramref name="kinds"/>
    /// (default: all four kinds); ties go to the kind listed first, then the finer level.
    /// </summary>
    public LabelMap NearestCut(int classes, params CutKind[] kinds)
    {
        if (kinds.Length == 0) kinds = Enum.GetValues<CutKind>();
        return kinds.SelectMany(CutAll).MinBy(m => Math.Abs(m.ClassCount - classes))!;
    }

    /// <summary>Every cut of one kind, in the order of <see cref="Levels"/>.</summary>
    public IReadOnlyList<LabelMap> CutAll(CutKind kind) => Levels(kind).Select(Cut).ToList();

    /// <summary>The identity labelling: each class its own label.</summary>
    public LabelMap Leaves() => Cut(GranularityLevel.StepsUp(0));

    /// <summary>Classes per level and classes/images per label for every level of <paramref name="kind"/>.</summary>
    public IReadOnlyList<LevelSummary> Summaries(CutKind kind, ReadOnlySpan<long> imagesPerLeaf = default)
    {
        var result = new List<LevelSummary>();
        foreach (var level in Levels(kind)) result.Add(LevelSummary.Of(level, Cut(level), imagesPerLeaf));
        return result;
    }

    private void CheckLevel(GranularityLevel level)
    {
        var max = level.Kind == CutKind.Height ? RootHeight : MaxLeafDepth;
        if (level.Value < 0 || level.Value > max)
            throw new ArgumentException(
                $"{level} is outside {Name}: {level.Kind} levels run 0..{max} (deeper cuts would equal the classes themselves)", nameof(level));
    }

    /// <summary>
    /// Builds a tree from edges. <paramref name="classes"/> gives the finest classes in label order; when null the classes
    /// are the nodes without children, in order of first appearance. <paramref name="titles"/> maps ids to readable names.
    /// <paramref name="roots"/> makes a forest: the nodes without a parent must be exactly these (a root that is in no edge,
    /// a class that is a root of its own, is added as a node); without it the edges must have exactly one root.
    /// </summary>
    public static LabelTree FromEdges(
        IReadOnlyList<Edge> edges, string name, IReadOnlyList<string>? classes = null, string classSource = "class list",
        IReadOnlyDictionary<string, string>? titles = null, IReadOnlyList<string>? notes = null, IReadOnlyList<string>? roots = null)
    {
        var nodeIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var nodeIds = new List<string>();
        var parentOf = new List<int>();
        var parentEdge = new List<Edge?>();
        var firstSeen = new List<Edge>();
        int Intern(string id, Edge seen)
        {
            if (nodeIndex.TryGetValue(id, out var node)) return node;
            node = nodeIds.Count;
            nodeIndex[id] = node;
            nodeIds.Add(id);
            parentOf.Add(-1);
            parentEdge.Add(null);
            firstSeen.Add(seen);
            return node;
        }

        var seenEdges = new Dictionary<(string, string), Edge>();
        foreach (var edge in edges)
        {
            if (!seenEdges.TryAdd((edge.Parent, edge.Child), edge))
                throw new InvalidDataException($"{edge.Where}: duplicate edge '{edge.Parent} {edge.Child}' (first at {seenEdges[(edge.Parent, edge.Child)].Where})");
            if (edge.Parent == edge.Child)
                throw new InvalidDataException($"{edge.Where}: '{edge.Child}' is given as its own parent (a cycle of length 1)");
            var p = Intern(edge.Parent, edge);
            var c = Intern(edge.Child, edge);
            if (parentOf[c] >= 0)
            {
                var first = parentEdge[c]!.Value;
                throw new InvalidDataException(
                    $"{edge.Where}: '{edge.Child}' gets a second parent '{edge.Parent}' (its parent '{first.Parent}' is at {first.Where}); " +
                    "a label tree needs exactly one parent per node — choose one (e.g. a WordNet parent rule) before building");
            }
            parentOf[c] = p;
            parentEdge[c] = edge;
        }
        foreach (var root in roots ?? Array.Empty<string>())
        {
            if (nodeIndex.TryGetValue(root, out var node) && parentOf[node] >= 0)
                throw new InvalidDataException($"{parentEdge[node]!.Value.Where}: '{root}' is named a root of {name} but has the parent '{parentEdge[node]!.Value.Parent}'");
            Intern(root, new Edge("", root, $"{name} (named root)", 0));
        }
        if (nodeIds.Count == 0) throw new InvalidDataException($"{name}: the edge list is empty");

        var rootNodes = Enumerable.Range(0, nodeIds.Count).Where(i => parentOf[i] < 0).ToList();
        if (roots is null && rootNodes.Count > 1)
            throw new InvalidDataException(
                $"{name}: {rootNodes.Count} roots (nodes without a parent): " +
                string.Join(", ", rootNodes.Take(5).Select(r => $"'{nodeIds[r]}' (first at {firstSeen[r].Where})")) +
                (rootNodes.Count > 5 ? ", …" : "") + "; a label tree has exactly one root — add the missing parent edges or a common root");
        var unnamedRoots = roots is null ? new List<int>() : rootNodes.Where(r => !roots.Contains(nodeIds[r])).ToList();
        if (unnamedRoots.Count > 0)
            throw new InvalidDataException(
                $"{name}: {unnamedRoots.Count} node(s) without a parent are not among the {roots!.Count} named roots: " +
                string.Join(", ", unnamedRoots.Take(5).Select(r => $"'{nodeIds[r]}' (first at {firstSeen[r].Where})")) + (unnamedRoots.Count > 5 ? ", …" : ""));
        var reachable = new bool[nodeIds.Count];
        if (rootNodes.Count >= 1)
        {
            // Mark every node whose parent chain ends at the root; the others sit on or below a cycle.
            var state = new byte[nodeIds.Count];
            for (int start = 0; start < nodeIds.Count; start++)
            {
                int node = start;
                var trail = new List<int>();
                while (node >= 0 && state[node] == 0) { state[node] = 1; trail.Add(node); node = parentOf[node]; }
                bool ok = node < 0 || reachable[node];
                foreach (var t in trail) { state[t] = 2; reachable[t] = ok; }
            }
        }
        var stray = Enumerable.Range(0, nodeIds.Count).FirstOrDefault(i => !reachable[i], -1);
        if (stray >= 0)
        {
            // Follow parents until a node repeats: that loop is the cycle to report.
            var visited = new Dictionary<int, int>();
            var path = new List<int>();
            int node = stray;
            while (!visited.ContainsKey(node)) { visited[node] = path.Count; path.Add(node); node = parentOf[node]; }
            var cycle = path.Skip(visited[node]).Select(i => nodeIds[i]).Reverse().ToList();
            throw new InvalidDataException(
                $"{parentEdge[node]!.Value.Where}: cycle {string.Join(" → ", cycle)} → {cycle[0]}; a label tree cannot contain cycles");
        }

        int[] leafNodes;
        var hasChild = new bool[nodeIds.Count];
        for (int i = 0; i < nodeIds.Count; i++) if (parentOf[i] >= 0) hasChild[parentOf[i]] = true;
        if (classes is null)
        {
            // First appearance as a child keeps the file's class order (the root alone is a one-class tree).
            leafNodes = edges.Select(e => nodeIndex[e.Child]).Where(n => !hasChild[n]).Distinct().ToArray();
            if (leafNodes.Length == 0) leafNodes = new[] { rootNodes[0] };
        }
        else
        {
            leafNodes = new int[classes.Count];
            var classPosition = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int k = 0; k < classes.Count; k++)
            {
                if (!classPosition.TryAdd(classes[k], k))
                    throw new InvalidDataException($"{classSource}: class '{classes[k]}' is listed twice (entries {classPosition[classes[k]] + 1} and {k + 1})");
                if (!nodeIndex.TryGetValue(classes[k], out var node))
                    throw new InvalidDataException($"{classSource}: class '{classes[k]}' (entry {k + 1}) is not in the edges of {name}: a node without a parent");
                leafNodes[k] = node;
            }
            var isClass = new bool[nodeIds.Count];
            foreach (var l in leafNodes) isClass[l] = true;
            var unlabelled = Enumerable.Range(0, nodeIds.Count).Where(i => !hasChild[i] && !isClass[i]).ToList();
            if (unlabelled.Count > 0)
                throw new InvalidDataException(
                    $"{name}: {unlabelled.Count} node(s) without children are not classes of {classSource}: " +
                    string.Join(", ", unlabelled.Take(5).Select(u => $"'{nodeIds[u]}' ({firstSeen[u].Where})")) + (unlabelled.Count > 5 ? ", …" : "") +
                    "; every branch must end in a class");
        }
        var idArray = nodeIds.ToArray();
        var titleArray = idArray.Select(id => titles is not null && titles.TryGetValue(id, out var t) ? t : id).ToArray();
        return new LabelTree(name, idArray, titleArray, parentOf.ToArray(), leafNodes, notes ?? Array.Empty<string>());
    }

    /// <summary>Reads an edge-list file and builds its tree (see <see cref="EdgeList"/> for the format).</summary>
    public static LabelTree Load(string path, IReadOnlyList<string>? classes = null, string? name = null) =>
        FromEdges(EdgeList.Read(path), name ?? Path.GetFileName(path), classes);

    /// <summary>The tree as <c>parent child</c> edges in breadth-first order.</summary>
    public IEnumerable<(string Parent, string Child)> Edges() =>
        BreadthFirstOrder().Where(n => parent[n] >= 0).Select(n => (ids[parent[n]], ids[n]));
}
