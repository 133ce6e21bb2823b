//! The demo county: a grid of every level, loaded through the public API
//! like any integrator would. Re-running it finds the cells already there.

use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::grid_service_client::GridServiceClient;
use tonic::Code;

const COUNTY: &str = "demo-county";

const STREETS: [(&str, &str); 3] = [
    ("qingshan", "青山街道 Qingshan Street"),
    ("hexi", "河西街道 Hexi Street"),
    ("dongcheng", "东城街道 Dongcheng Street"),
];

/// Creates the demo grid: 1 county, 3 streets, 2 communities each, 2 grids
/// each, 2 buildings each (the second of each grid newly built), 2 units each.
pub async fn load(grid: &str, token: &str) -> anyhow::Result<()> {
    let mut client = GridServiceClient::connect(grid.to_owned()).await?;
    let mut created = 0;
    let mut existing = 0;
    let mut cells = vec![(
        COUNTY.to_owned(),
        String::new(),
        pb::CellLevel::County,
        "示范县 Demo County".to_owned(),
        false,
    )];
    for (street, street_name) in STREETS {
        let street_id = format!("{COUNTY}-{street}");
        cells.push((
            street_id.clone(),
            COUNTY.to_owned(),
            pb::CellLevel::Street,
            street_name.to_owned(),
            false,
        ));
        for c in 1..=2 {
            let community = format!("{street_id}-c{c}");
            cells.push((
                community.clone(),
                street_id.clone(),
                pb::CellLevel::Community,
                format!("{street_name} 第{c}社区"),
                false,
            ));
            for g in 1..=2 {
                let grid_id = format!("{community}-g{g}");
                cells.push((
                    grid_id.clone(),
                    community.clone(),
                    pb::CellLevel::Grid,
                    format!("第{g}网格"),
                    false,
                ));
                for b in 1..=2 {
                    let building = format!("{grid_id}-b{b}");
                    cells.push((
                        building.clone(),
                        grid_id.clone(),
                        pb::CellLevel::Building,
                        format!("{b}号楼"),
                        b == 2,
                    ));
                    for u in 1..=2 {
                        cells.push((
                            format!("{building}-u{u}"),
                            building.clone(),
                            pb::CellLevel::Unit,
                            format!("{u}单元"),
                            false,
                        ));
                    }
                }
            }
        }
    }
    for (id, parent, level, display_name, newly_built) in cells {
        let request = pb::CreateCellRequest {
            cell_id: id,
            cell: Some(pb::Cell {
                parent: if parent.is_empty() {
                    parent
                } else {
                    format!("cells/{parent}")
                },
                level: level as i32,
                display_name,
                newly_built,
                ..Default::default()
            }),
            request_id: String::new(),
        };
        let mut request = tonic::Request::new(request);
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
        match client.create_cell(request).await {
            Ok(_) => created += 1,
            Err(status) if status.code() == Code::AlreadyExists => existing += 1,
            Err(status) => return Err(anyhow::anyhow!("creating a demo cell failed: {status}")),
        }
    }
    println!("demo county `cells/{COUNTY}`: {created} cells created, {existing} already there");
    Ok(())
}
