using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Ppcls.Inference;

namespace Ppcls.Serving;

/// <summary>
/// The images of a POST /predict in its three forms: multipart files (field `image`, one or many), a raw image
/// body (`Content-Type: image/*`, its name from an optional `X-File-Name` header), or JSON `{"images": ["&lt;base64&gt;", ...]}`
/// as PaddleHub's classification serving takes them. A request that is none of these is a <see cref="UserInputException"/>.
/// </summary>
public static class PredictInputs
{
    public const string FormField = "image";

    public static async Task<IReadOnlyList<ImageInput>> ReadAsync(HttpRequest request, CancellationToken cancel)
    {
        string type = request.ContentType ?? "";
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(cancel).ConfigureAwait(false);
            var files = form.Files.GetFiles(FormField);
            if (files.Count == 0)
                throw new UserInputException($"multipart request without a file in field '{FormField}'; send the images as {FormField}=@photo.jpg");
            var inputs = new List<ImageInput>(files.Count);
            foreach (var file in files)
            {
                using var buffer = new MemoryStream();
                await file.CopyToAsync(buffer, cancel).ConfigureAwait(false);
                inputs.Add(new ImageInput(file.FileName, file.FileName, buffer.ToArray()));
            }
            return inputs;
        }
        if (type.StartsWith("image/", StringComparison.OrdinalIgnoreCase))
        {
            string? name = request.Headers["X-File-Name"].FirstOrDefault();
            return [new ImageInput(name, name ?? "the request body", await ReadBodyAsync(request, cancel).ConfigureAwait(false))];
        }
        if (type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            return Base64Images(await ReadJsonAsync(request, cancel).ConfigureAwait(false), "images");
        throw new UserInputException(
            $"unsupported Content-Type '{type}'; send multipart/form-data (field '{FormField}'), an image/* body, or application/json {{\"images\": [\"<base64>\"]}}");
    }

    public static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancel)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancel).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>The body as JSON (whatever its Content-Type says: Paddle Serving's client sends none); bad JSON is a <see cref="UserInputException"/>.</summary>
    public static async Task<JsonElement> ReadJsonAsync(HttpRequest request, CancellationToken cancel)
    {
        var body = await ReadBodyAsync(request, cancel).ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new UserInputException($"the body is not valid JSON: {e.Message}");
        }
    }

    /// <summary>The base64 strings of <paramref name="key"/> (a list), named `key[i]`; an entry that is no base64 is kept as undecodable bytes so it is answered as an error.</summary>
    public static IReadOnlyList<ImageInput> Base64Images(JsonElement root, string key, IReadOnlyList<string>? names = null)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(key, out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
            throw new UserInputException($"expected JSON {{\"{key}\": [\"<base64 image>\", ...]}} with at least one image");
        var inputs = new List<ImageInput>();
        int i = 0;
        foreach (var item in list.EnumerateArray())
        {
            string source = names is not null && i < names.Count ? names[i] : $"{key}[{i}]";
            byte[] bytes = item.ValueKind == JsonValueKind.String && TryBase64(item.GetString()!, out var decoded) ? decoded : [];
            inputs.Add(new ImageInput(names is not null && i < names.Count ? names[i] : null, source, bytes));
            i++;
        }
        return inputs;
    }

    public static bool TryBase64(string text, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromBase64String(text);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
