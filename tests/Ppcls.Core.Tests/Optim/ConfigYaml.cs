using Ppcls.Core.Config;

namespace Ppcls.Core.Tests.Optim;

static class ConfigYaml
{
    public static ConfigSection Section(string yaml, string path) =>
        new(YamlConfigReader.Read(new StringReader(yaml), "t.yaml"), path);
}
