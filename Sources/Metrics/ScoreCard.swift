import Foundation

/// Everything `jdrl-eval` reports for one output/target pair: PSNR, SSIM, MAE and, when the user
/// supplied LPIPS weights, LPIPS (otherwise the reason it is missing; never a made-up number).
public struct ScoreCard: Sendable {
    public var psnr: PSNRResult
    public var ssim: SSIMResult
    public var mae: MAEResult
    public var lpips: LPIPSResult?
    public var lpipsUnavailable: String?
    /// Per-channel mean of (output - target): exposure / white-balance bias.
    public var colourError: ColourErrorResult
    /// PSNR after removing each channel's mean error: a separate, colour-corrected score.
    public var psnrColourCorrected: PSNRResult

    public static let noWeightsNote = "LPIPS unavailable: no weights given (--lpips-weights FILE.safetensors with the lpips package's AlexNet state_dict names)"

    public init(_ pair: ImagePair, window: SSIMWindow = .uniform, lpips network: LPIPSNetwork? = nil) throws {
        psnr = pair.psnr()
        ssim = try pair.ssim(window: window)
        mae = pair.mae()
        colourError = pair.colourError()
        psnrColourCorrected = pair.psnrColourCorrected()
        if let network {
            lpips = try pair.lpips(network)
        } else {
            lpipsUnavailable = Self.noWeightsNote
        }
    }

    /// One JSON line: `psnr`, `ssim`, `mae`, `colour_error` (per-channel mean of output - target),
    /// `colour_error_max` (largest |value|), `psnr_colour_corrected` (PSNR after removing those means; null
    /// if that leaves no error), `lpips` (null with `lpips_note` when unavailable) and
    /// `measured_against` (target, bit depths, border, data range, SSIM window, LPIPS weights).
    /// Identical images have infinite PSNR, which JSON cannot hold: `null` plus `psnr_note`.
    public func jsonLine(target: String) -> String {
        var fields: [(String, String)] = []
        if psnr.value.isFinite {
            fields.append(("psnr", json(psnr.value)))
        } else {
            fields.append(("psnr", "null"))
            fields.append(("psnr_note", json("infinite: output equals target")))
        }
        fields.append(("ssim", json(ssim.value)))
        fields.append(("mae", json(mae.value)))
        fields.append(("colour_error", "[" + colourError.perChannel.map(json).joined(separator: ", ") + "]"))
        fields.append(("colour_error_max", json(colourError.largest)))
        fields.append(("psnr_colour_corrected", psnrColourCorrected.value.isFinite ? json(psnrColourCorrected.value) : "null"))
        if let lpips {
            fields.append(("lpips", json(lpips.value)))
        } else {
            fields.append(("lpips", "null"))
            fields.append(("lpips_note", json(lpipsUnavailable ?? Self.noWeightsNote)))
        }
        let basis = psnr.basis
        var against: [(String, String)] = [
            ("target", json(target)), ("target_name", json(basis.targetName)),
            ("target_bit_depth", "\(basis.targetBitDepth)"), ("output_bit_depth", "\(basis.outputBitDepth)"),
            ("border", "\(basis.border)"), ("data_range", json(basis.dataRange)),
            ("ssim_window", json(ssim.window.rawValue)),
        ]
        if let lpips { against.append(("lpips_weights", json(lpips.weightsName))) }
        fields.append(("measured_against", object(against)))
        return object(fields)
    }

    private func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(json($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    private func json(_ value: Double) -> String { "\(value)" }

    private func json(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
