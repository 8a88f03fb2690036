using System.IO.Compression;
using Ppcls.Core.Checkpoint.Pickle;
using static TorchSharp.torch;

namespace Ppcls.Core.Checkpoint;

/// <summary>
/// PyTorch's `torch.save(model.state_dict())` (`.pth` / `.pt`, the zip format of PyTorch 1.6 and
/// later): `&lt;name&gt;/data.pkl` pickles the dict, each tensor's storage is `&lt;name&gt;/data/&lt;key&gt;`.
/// The pickle goes through the restricted unpickler, so only tensors in dicts come out. A dict
/// nested under `state_dict` or `model` (training checkpoints) is taken as the state dict.
/// </summary>
public static class TorchStateDictFile
{
    public static Dictionary<string, Tensor> Read(string path)
    {
        ZipArchive zip;
        try
        {
            zip = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException)
        {
            throw Refused(path, "it is not a zip archive (PyTorch before 1.6 wrote another format); re-save it with a current torch.save");
        }
        using (zip)
        {
            var pickle = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
                ?? throw Refused(path, "no <name>/data.pkl in the archive");
            string prefix = pickle.FullName[..^"data.pkl".Length];
            var storages = new Dictionary<string, TorchStorage>(StringComparer.Ordinal);
            object? root;
            try
            {
                if (zip.GetEntry(prefix + "byteorder") is { } byteOrder && System.Text.Encoding.ASCII.GetString(ReadAll(byteOrder)) != "little")
                    throw new PickleException("its tensors are big-endian");
                root = new RestrictedUnpickler(ReadAll(pickle), PickleAllowList.Torch, id => Storage(id)).Load();
            }
            catch (PickleException e)
            {
                throw Refused(path, e.Message);
            }
            if (root is Dictionary<object, object?> outer && outer.Values.All(v => v is not Tensor)
                && (outer.GetValueOrDefault("state_dict") ?? outer.GetValueOrDefault("model")) is Dictionary<object, object?> inner)
                root = inner;
            if (root is not Dictionary<object, object?> dict) throw Refused(path, "the pickle is not a dict of tensors");
            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var (key, value) in dict)
                tensors[key as string ?? throw Refused(path, $"a key is not a string ({key})")] =
                    value as Tensor ?? throw Refused(path, $"entry '{key}' is not a tensor");
            return tensors;

            TorchStorage Storage(object? id)
            {
                var storage = TorchStorage.FromPersistentId(id, key => storages.TryGetValue(key, out var known) ? known.Bytes
                    : ReadAll(zip.GetEntry(prefix + "data/" + key) ?? throw new PickleException($"storage data/{key} is missing from the archive")));
                storages[storage.Key] = storage;
                return storage;
            }
        }
    }

    static byte[] ReadAll(ZipArchiveEntry entry)
    {
        if (entry.Length > int.MaxValue) throw new PickleException($"{entry.FullName} is larger than 2 GiB");
        try
        {
            using var stream = entry.Open();
            var bytes = new byte[entry.Length];
            stream.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new PickleException($"{entry.FullName} is damaged ({e.Message})");
        }
    }

    static PpclsUserException Refused(string path, string problem) =>
        new($"{path}: cannot read as a PyTorch state dict: {problem}; save it with torch.save(model.state_dict(), path) or convert it to .safetensors");
}
