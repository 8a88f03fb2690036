namespace Ppcls.Core.Config.Sections;

/// <summary>`Global.device`.</summary>
public enum DeviceKind { Cpu, Gpu }

/// <summary>`Global.eval_mode`: classification, or retrieval (Recallk / mAP of DataLoader.Eval's Query against its Gallery).</summary>
public enum EvalMode { Classification, Retrieval }

/// <summary>`Global.save_format` (Ppcls addition): `pdparams` also writes each checkpoint's weights as `&lt;name&gt;.pdparams` for PaddleClas.</summary>
public enum SaveFormat { Safetensors, Pdparams }
