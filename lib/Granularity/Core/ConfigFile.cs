using System.Collections;
using System.Reflection;
using System.Text.Json;

namespace Granularity.Core;

/// <summary>
/// Reads typed config files (JSON in the <see cref="JsonFiles"/> convention) and checks them before anything uses them:
/// malformed JSON, a missing or null required field, an unknown field, a wrong type or enum value, and — through the
/// type's own <c>Validated()</c> — an out-of-range value each raise a <see cref="ConfigFileException"/> naming the file,
/// the JSON path of the field and what was expected.
/// </summary>
public static class ConfigFile
{
    /// <summary>Largest config file read (a config is a few KiB; anything this big is not one).</summary>
    public const long MaxBytes = 16 << 20;

    /// <summary>Reads and checks <paramref name="path"/> as <typeparamref name="T"/>, then calls its <c>Validated()</c> when it has one.</summary>
    public static T Read<T>(string path) where T : class
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: config file not found", path);
        var length = new FileInfo(path).Length;
        if (length > MaxBytes) throw new ConfigFileException(path, null, $"{length:N0} bytes: larger than any config ({MaxBytes:N0} bytes at most)");
        return Parse<T>(File.ReadAllText(path), path);
    }

    /// <summary>Checks config text; <paramref name="source"/> names it in errors.</summary>
    public static T Parse<T>(string json, string source) where T : class
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 }); }
        catch (JsonException error)
        {
            throw new ConfigFileException(source, $"line {(error.LineNumber ?? 0) + 1}", $"not valid JSON ({FirstSentence(error.Message)})", error);
        }
        using (document)
        {
            Check(document.RootElement, typeof(T), "$", source, nullable: false);
            T? value;
            try { value = document.RootElement.Deserialize<T>(JsonFiles.Options); }
            catch (Exception error) when (error is JsonException or NotSupportedException or ArgumentException or InvalidOperationException or FormatException or OverflowException)
            {
                throw new ConfigFileException(source, (error as JsonException)?.Path ?? "$", $"not a {typeof(T).Name}: {FirstSentence(error.Message)}", error);
            }
            if (value is null) throw new ConfigFileException(source, "$", $"expected a {typeof(T).Name} object, found null");
            return Validate(value, source);
        }
    }

    /// <summary>Calls the value's parameterless <c>Validated()</c>, if any, turning its ArgumentException into a ConfigFileException.</summary>
    public static T Validate<T>(T value, string source) where T : class
    {
        var validated = typeof(T).GetMethod("Validated", BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes);
        if (validated is null) return value;
        try { return validated.Invoke(value, null) as T ?? value; }
        catch (TargetInvocationException error) when (error.InnerException is ArgumentException or InvalidDataException or InputFormatException)
        {
            var message = error.InnerException.Message;
            throw new ConfigFileException(source, PathOfMessage(typeof(T), message), $"out of range: {message}", error.InnerException);
        }
    }

    /// <summary>
    /// The JSON path a Validated() message refers to when it starts with "Owner.Field" (Owner a property or type name on the
    /// way down from <paramref name="root"/>, e.g. "Pretraining.Epochs" → "$.pretraining.epochs"); "$" when none is found.
    /// </summary>
    private static string PathOfMessage(Type root, string message)
    {
        var match = System.Text.RegularExpressions.Regex.Match(message, @"^(\w+)\.(\w+)");
        if (!match.Success) return "$";
        string owner = match.Groups[1].Value, field = match.Groups[2].Value;
        var queue = new Queue<(Type Type, string Name, string Path, int Depth)>();
        queue.Enqueue((root, root.Name, "$", 0));
        while (queue.Count > 0)
        {
            var (type, name, path, depth) = queue.Dequeue();
            var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance);
            if ((string.Equals(name, owner, StringComparison.OrdinalIgnoreCase) || type.Name == owner) && properties.FirstOrDefault(p => p.Name == field) is { } hit)
                return $"{path}.{JsonFiles.Options.PropertyNamingPolicy!.ConvertName(hit.Name)}";
            if (depth >= 4) continue;
            foreach (var property in properties)
            {
                var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                if (propertyType.IsClass && propertyType != typeof(string) && propertyType.Namespace?.StartsWith("System", StringComparison.Ordinal) != true)
                    queue.Enqueue((propertyType, property.Name, $"{path}.{JsonFiles.Options.PropertyNamingPolicy!.ConvertName(property.Name)}", depth + 1));
            }
        }
        return "$";
    }

    private static readonly NullabilityInfoContext nullability = new();

    private static void Check(JsonElement element, Type type, string path, string source, bool nullable)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (underlying is not null) { type = underlying; nullable = true; }
        if (element.ValueKind == JsonValueKind.Null)
        {
            if (nullable) return;
            throw new ConfigFileException(source, path, $"null where {Describe(type)} is required");
        }
        if (type == typeof(string)) { Expect(element, JsonValueKind.String, type, path, source); return; }
        if (type == typeof(bool))
        {
            if (element.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw Wrong(element, type, path, source);
            return;
        }
        if (type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte))
        {
            Expect(element, JsonValueKind.Number, type, path, source);
            if (!element.TryGetInt64(out var whole)) throw new ConfigFileException(source, path, $"expected a whole number, got {element.GetRawText()}");
            if (type == typeof(int) && (whole < int.MinValue || whole > int.MaxValue)) throw new ConfigFileException(source, path, $"{whole} does not fit a 32-bit whole number");
            return;
        }
        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
        {
            if (element.ValueKind == JsonValueKind.String && element.GetString() is "NaN" or "Infinity" or "-Infinity") return;
            Expect(element, JsonValueKind.Number, type, path, source);
            return;
        }
        if (type.IsEnum)
        {
            var names = Enum.GetNames(type);
            if (element.ValueKind != JsonValueKind.String || !names.Contains(element.GetString(), StringComparer.OrdinalIgnoreCase))
                throw new ConfigFileException(source, path, $"expected one of {string.Join(", ", names.Select(n => $"\"{n}\""))}, got {Shorten(element.GetRawText())}");
            return;
        }
        if (ElementType(type) is { } itemType)
        {
            Expect(element, JsonValueKind.Array, type, path, source);
            int index = 0;
            foreach (var item in element.EnumerateArray()) Check(item, itemType, $"{path}[{index++}]", source, nullable: false);
            return;
        }
        if (DictionaryValueType(type) is { } valueType)
        {
            Expect(element, JsonValueKind.Object, type, path, source);
            foreach (var property in element.EnumerateObject()) Check(property.Value, valueType, $"{path}.{property.Name}", source, nullable: false);
            return;
        }
        if (type.IsPrimitive || type == typeof(object) || type.Namespace?.StartsWith("System", StringComparison.Ordinal) == true) return;
        CheckObject(element, type, path, source);
    }

    private static void CheckObject(JsonElement element, Type type, string path, string source)
    {
        Expect(element, JsonValueKind.Object, type, path, source);
        var constructor = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance).OrderByDescending(c => c.GetParameters().Length).FirstOrDefault();
        var fields = new Dictionary<string, (Type Type, bool Required, bool Nullable)>(StringComparer.Ordinal);
        if (constructor is not null)
            foreach (var parameter in constructor.GetParameters())
            {
                var name = JsonFiles.Options.PropertyNamingPolicy!.ConvertName(parameter.Name!);
                var isNullable = !parameter.ParameterType.IsValueType && nullability.Create(parameter).WriteState == NullabilityState.Nullable;
                fields[name] = (parameter.ParameterType, !parameter.HasDefaultValue && !isNullable, isNullable || (parameter.HasDefaultValue && parameter.DefaultValue is null && !parameter.ParameterType.IsValueType));
            }
        var computed = new HashSet<string>(StringComparer.Ordinal); // get-only properties: written by the serializer, ignored on reading
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0) continue;
            if (property.SetMethod is not { IsPublic: true })
            {
                var computedName = JsonFiles.Options.PropertyNamingPolicy!.ConvertName(property.Name);
                if (!fields.ContainsKey(computedName)) computed.Add(computedName);
                continue;
            }
            var name = JsonFiles.Options.PropertyNamingPolicy!.ConvertName(property.Name);
            var required = property.GetCustomAttribute<System.Runtime.CompilerServices.RequiredMemberAttribute>() is not null;
            if (!fields.ContainsKey(name))
                fields[name] = (property.PropertyType, required, !property.PropertyType.IsValueType && nullability.Create(property).WriteState == NullabilityState.Nullable);
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            var fieldPath = $"{path}.{property.Name}";
            if (!seen.Add(property.Name)) throw new ConfigFileException(source, fieldPath, "given twice");
            if (computed.Contains(property.Name)) continue;
            if (!fields.TryGetValue(property.Name, out var field))
                throw new ConfigFileException(source, fieldPath, $"unknown field of {type.Name}; expected {string.Join(", ", fields.Keys)}");
            Check(property.Value, field.Type, fieldPath, source, field.Nullable);
        }
        foreach (var (name, field) in fields)
            if (field.Required && !seen.Contains(name))
                throw new ConfigFileException(source, $"{path}.{name}", $"missing: {type.Name} needs {Describe(field.Type)} here");
    }

    private static Type? ElementType(Type type)
    {
        if (type.IsArray) return type.GetElementType();
        if (!type.IsGenericType) return null;
        var definition = type.GetGenericTypeDefinition();
        return definition == typeof(List<>) || definition == typeof(IReadOnlyList<>) || definition == typeof(IList<>) || definition == typeof(IEnumerable<>)
            || definition == typeof(IReadOnlyCollection<>) || definition == typeof(ICollection<>) || definition == typeof(HashSet<>)
            ? type.GetGenericArguments()[0] : null;
    }

    private static Type? DictionaryValueType(Type type)
    {
        if (!type.IsGenericType) return null;
        var definition = type.GetGenericTypeDefinition();
        return (definition == typeof(Dictionary<,>) || definition == typeof(IReadOnlyDictionary<,>) || definition == typeof(IDictionary<,>))
            && type.GetGenericArguments()[0] == typeof(string) ? type.GetGenericArguments()[1] : null;
    }

    private static void Expect(JsonElement element, JsonValueKind kind, Type type, string path, string source)
    {
        if (element.ValueKind != kind) throw Wrong(element, type, path, source);
    }

    private static ConfigFileException Wrong(JsonElement element, Type type, string path, string source) =>
        new(source, path, $"expected {Describe(type)}, got {Kind(element.ValueKind)} {Shorten(element.GetRawText())}");

    private static string Describe(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string)) return "a string";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte)) return "a whole number";
        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal)) return "a number";
        if (type.IsEnum) return $"one of {string.Join(", ", Enum.GetNames(type))}";
        if (ElementType(type) is { } item) return $"an array of {Describe(item).Replace("a ", "", StringComparison.Ordinal)}";
        if (typeof(IEnumerable).IsAssignableFrom(type)) return "an object";
        return $"a {type.Name} object";
    }

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "the string",
        JsonValueKind.Number => "the number",
        JsonValueKind.True or JsonValueKind.False => "the boolean",
        _ => "null",
    };

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message.TrimEnd('.');
    }
}
